//! P4TC's command language (`tc p4ctrl`, our `p4tc ctl`): parsing commands into typed
//! object-model operations, and running them.

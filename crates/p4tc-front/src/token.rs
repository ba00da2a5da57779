//! Tokens: what the lexer produces, the preprocessor rewrites and the parser reads.

use std::sync::Arc;

use num_bigint::BigUint;
use p4tc_ir::Span;

/// The base an integer literal was written in; kept so the printer writes it back the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Base {
    /// `0b`
    Binary,
    /// `0o`
    Octal,
    /// No prefix, or `0d`.
    Decimal,
    /// `0x`
    Hex,
}

impl Base {
    /// The numeric radix.
    pub fn radix(self) -> u32 {
        match self {
            Base::Binary => 2,
            Base::Octal => 8,
            Base::Decimal => 10,
            Base::Hex => 16,
        }
    }
}

/// An integer literal: `5`, `0x0A`, `8w5`, `16s0b1010`, `16s-3`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IntLit {
    /// Width and signedness from a `Nw` / `Ns` prefix; `None` for an arbitrary-precision `int`.
    pub width: Option<(u32, bool)>,
    /// Magnitude, arbitrary precision.
    pub value: BigUint,
    /// `true` for the `16s-3` form, whose value is negative.
    pub negative: bool,
    /// How the digits were written.
    pub base: Base,
}

macro_rules! keywords {
    ($($variant:ident => $text:literal,)*) => {
        /// Every reserved word of P4-16. Some (`apply`, `key`, `actions`, `state`, `entries`,
        /// `type`, `priority`, `list`) are also accepted as names where the grammar allows it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Keyword { $(
            #[doc = concat!("`", $text, "`")]
            $variant,
        )* }

        impl Keyword {
            /// Every keyword.
            pub const ALL: &'static [Keyword] = &[$(Keyword::$variant,)*];

            /// How it is spelled.
            pub fn as_str(self) -> &'static str {
                match self { $(Keyword::$variant => $text,)* }
            }

            /// The keyword spelled `text`, if any.
            pub fn from_word(text: &str) -> Option<Keyword> {
                match text { $($text => Some(Keyword::$variant),)* _ => None }
            }
        }
    };
}

keywords! {
    Abstract => "abstract",
    Action => "action",
    Actions => "actions",
    Apply => "apply",
    Bool => "bool",
    Bit => "bit",
    Break => "break",
    Const => "const",
    Continue => "continue",
    Control => "control",
    Default => "default",
    Else => "else",
    Entries => "entries",
    Enum => "enum",
    Error => "error",
    Exit => "exit",
    Extern => "extern",
    False => "false",
    For => "for",
    Header => "header",
    HeaderUnion => "header_union",
    If => "if",
    In => "in",
    Inout => "inout",
    Int => "int",
    Key => "key",
    List => "list",
    MatchKind => "match_kind",
    Out => "out",
    Package => "package",
    Parser => "parser",
    Priority => "priority",
    Return => "return",
    Select => "select",
    State => "state",
    String => "string",
    Struct => "struct",
    Switch => "switch",
    Table => "table",
    This => "this",
    Transition => "transition",
    True => "true",
    Tuple => "tuple",
    Type => "type",
    Typedef => "typedef",
    ValueSet => "value_set",
    Varbit => "varbit",
    Void => "void",
}

macro_rules! puncts {
    ($($variant:ident => $text:literal,)*) => {
        /// Operators and punctuation. Longer spellings come first in [`Punct::ALL`], which the
        /// lexer relies on (maximal munch).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Punct { $(
            #[doc = concat!("`", $text, "`")]
            $variant,
        )* }

        impl Punct {
            /// Every punctuation token, longest first.
            pub const ALL: &'static [Punct] = &[$(Punct::$variant,)*];

            /// How it is spelled.
            pub fn as_str(self) -> &'static str {
                match self { $(Punct::$variant => $text,)* }
            }
        }
    };
}

// `>>` and `>>=` are not tokens: the parser joins adjacent `>` `>` so that `bit<bit<8>>` closes
// two type argument lists, as P4's grammar requires.
puncts! {
    SatAddAssign => "|+|=",
    SatSubAssign => "|-|=",
    InvalidHeader => "{#}",
    MaskOp => "&&&",
    Ellipsis => "...",
    SatAdd => "|+|",
    SatSub => "|-|",
    ShlAssign => "<<=",
    AndAnd => "&&",
    OrOr => "||",
    EqEq => "==",
    NotEq => "!=",
    Le => "<=",
    Ge => ">=",
    Shl => "<<",
    DotDot => "..",
    PlusPlus => "++",
    AddAssign => "+=",
    SubAssign => "-=",
    MulAssign => "*=",
    DivAssign => "/=",
    ModAssign => "%=",
    AndAssign => "&=",
    OrAssign => "|=",
    XorAssign => "^=",
    HashHash => "##",
    LParen => "(",
    RParen => ")",
    LBrace => "{",
    RBrace => "}",
    LBracket => "[",
    RBracket => "]",
    Lt => "<",
    Gt => ">",
    Semi => ";",
    Colon => ":",
    Comma => ",",
    Dot => ".",
    Assign => "=",
    At => "@",
    Question => "?",
    Bang => "!",
    Tilde => "~",
    Plus => "+",
    Minus => "-",
    Star => "*",
    Slash => "/",
    Percent => "%",
    Amp => "&",
    Pipe => "|",
    Caret => "^",
    Hash => "#",
}

/// What a token is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A name that is not a keyword. (Token payloads are reference-counted so that the
    /// parser's lookahead and backtracking copy tokens without allocating.)
    Ident(Arc<str>),
    /// A reserved word.
    Keyword(Keyword),
    /// `_`, the don't-care.
    DontCare,
    /// An integer literal.
    Int(Arc<IntLit>),
    /// A string literal's contents, without the quotes, escapes kept as written.
    Str(Arc<str>),
    /// An operator or punctuation.
    Punct(Punct),
    /// A character P4 has no use for. Annotation bodies may hold it; anywhere else the parser
    /// reports it.
    Unexpected(char),
    /// End of input; always the last token.
    Eof,
}

/// One token with where it came from.
#[derive(Clone, Debug)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Where it was written (for a token from a macro expansion: where the macro was used).
    pub span: Span,
    /// First token on its line (the preprocessor looks for `#` there).
    pub line_start: bool,
    /// Whitespace or a comment separates it from the previous token (`> >` is not `>>`, and
    /// `#define F (x)` is not a function-like macro).
    pub space_before: bool,
}

impl Token {
    /// True when the token is punctuation `p`.
    pub fn is(&self, p: Punct) -> bool {
        matches!(self.kind, TokenKind::Punct(q) if q == p)
    }

    /// True when the token is keyword `k`.
    pub fn is_keyword(&self, k: Keyword) -> bool {
        matches!(self.kind, TokenKind::Keyword(q) if q == k)
    }
}

impl std::fmt::Display for TokenKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenKind::Ident(name) => write!(f, "`{name}`"),
            TokenKind::Keyword(k) => write!(f, "keyword `{}`", k.as_str()),
            TokenKind::DontCare => write!(f, "`_`"),
            TokenKind::Int(_) => write!(f, "integer literal"),
            TokenKind::Str(_) => write!(f, "string literal"),
            TokenKind::Punct(p) => write!(f, "`{}`", p.as_str()),
            TokenKind::Unexpected(c) => write!(f, "character {c:?}"),
            TokenKind::Eof => write!(f, "end of file"),
        }
    }
}

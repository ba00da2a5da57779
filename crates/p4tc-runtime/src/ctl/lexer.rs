//! Words: commands are sequences of whitespace-separated words, as on a shell command line.
//! Text (files, [`super::parse_line`]) is split here, with `"..."`/`'...'` grouping words (so
//! a filter can be written as one argument) and `#` starting a comment; command-line
//! arguments arrive already split.

use std::borrow::Cow;

use super::{CtlError, Pos};

/// One word with where it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Word<'a> {
    /// The text, quotes removed: borrowed from the line unless quotes were taken out (a bulk
    /// file's million lines are split without a copy per word).
    pub text: Cow<'a, str>,
    /// Where it starts.
    pub at: Pos,
}

/// Words of command-line arguments: one per argument; columns count in the arguments joined
/// by single spaces.
pub(crate) fn words_of_args<S: AsRef<str>>(args: &[S]) -> Vec<Word<'_>> {
    let mut column = 1;
    let mut words = Vec::with_capacity(args.len());
    for (index, arg) in args.iter().enumerate() {
        let text = arg.as_ref();
        words.push(Word {
            text: Cow::Borrowed(text),
            at: Pos {
                line: None,
                column,
                word: index,
            },
        });
        column += text.chars().count() + 1;
    }
    words
}

/// What a physical line ended with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LineEnd {
    /// The command ends here.
    End,
    /// A `\` ended the line: the command goes on on the next line.
    Continues,
}

/// Bytes that end a run of plain ASCII in a word: whitespace, quotes, and every byte of a
/// non-ASCII character (which takes the character path).
static ENDS_RUN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = b >= 0x80 || matches!(b as u8, b'"' | b'\'' | b' ' | b'\t'..=b'\r');
        b += 1;
    }
    table
};

/// The character at byte `i` of `text` (a character boundary) and its length in bytes; ASCII
/// without decoding.
fn char_at(text: &str, i: usize) -> (char, usize) {
    match text.as_bytes().get(i) {
        Some(&b) if b.is_ascii() => (char::from(b), 1),
        _ => text
            .get(i..)
            .and_then(|rest| rest.chars().next())
            .map_or((' ', 1), |c| (c, c.len_utf8())),
    }
}

/// How [`lex_plain`] sees a byte: part of a word, whitespace, or a byte it leaves to the
/// general path (quotes, and every byte of a non-ASCII character).
static PLAIN_CLASS: [u8; 256] = {
    let mut table = [WORD; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = if b >= 0x80 || b == b'"' as usize || b == b'\'' as usize {
            OTHER
        } else if matches!(b as u8, b' ' | b'\t'..=b'\r') {
            SPACE
        } else {
            WORD
        };
        b += 1;
    }
    table
};
const WORD: u8 = 0;
const SPACE: u8 = 1;
const OTHER: u8 = 2;

/// Splits physical line `line` (numbered from 1) into `words`. A `#` at the start of a word
/// (outside quotes) comments out the rest of the line; a `\` as the line's last character
/// (outside quotes, before any comment) continues the command on the next line.
pub(crate) fn lex_line<'a>(
    text: &'a str,
    line: usize,
    words: &mut Vec<Word<'a>>,
) -> Result<LineEnd, CtlError> {
    // Byte offset of a `\` ending the line, if one does.
    let trimmed = text.trim_end();
    let continuation = trimmed.ends_with('\\').then(|| trimmed.len() - 1);
    if let Some(end) = lex_plain(text, line, continuation, words) {
        return Ok(end);
    }
    lex_general(text, line, continuation, words)
}

/// [`lex_line`] for a line of plain ASCII without quotes (a bulk file's lines), a byte per
/// column and every word borrowed: a byte class per byte and no character decoding. `None`
/// (and `words` as it was) when the line has a quote or a non-ASCII character before its
/// end or comment: the general path reads it.
fn lex_plain<'a>(
    text: &'a str,
    line: usize,
    continuation: Option<usize>,
    words: &mut Vec<Word<'a>>,
) -> Option<LineEnd> {
    let bytes = text.as_bytes();
    let had = words.len();
    // Past the `\` only whitespace is left (it was trimmed to find it).
    let limit = continuation.unwrap_or(bytes.len()).min(bytes.len());
    let mut i = 0;
    loop {
        while i < limit && PLAIN_CLASS[usize::from(bytes[i])] == SPACE {
            i += 1;
        }
        if i >= limit {
            break;
        }
        if bytes[i] == b'#' {
            return Some(LineEnd::End);
        }
        let start = i;
        while i < limit {
            match PLAIN_CLASS[usize::from(bytes[i])] {
                WORD => i += 1,
                SPACE => break,
                _ => {
                    words.truncate(had);
                    return None;
                }
            }
        }
        // (ASCII bytes: always character boundaries.)
        let Some(word) = text.get(start..i) else {
            words.truncate(had);
            return None;
        };
        words.push(Word {
            text: Cow::Borrowed(word),
            at: Pos {
                line: Some(line),
                column: start + 1,
                word: 0,
            },
        });
    }
    Some(match continuation {
        Some(_) => LineEnd::Continues,
        None => LineEnd::End,
    })
}

/// [`lex_line`] for any line: quotes, and columns counted in characters.
fn lex_general<'a>(
    text: &'a str,
    line: usize,
    continuation: Option<usize>,
    words: &mut Vec<Word<'a>>,
) -> Result<LineEnd, CtlError> {
    let len = text.len();
    // `i` is the byte offset of the next character; columns count characters, and `column`
    // is the column of the character at `i`.
    let mut i = 0;
    let mut column = 1;
    while i < len {
        let (c, l) = char_at(text, i);
        if c.is_whitespace() {
            i += l;
            column += 1;
            continue;
        }
        if c == '#' {
            return Ok(LineEnd::End);
        }
        if Some(i) == continuation {
            return Ok(LineEnd::Continues);
        }
        let start = i;
        let start_column = column;
        // Most words have no quotes: sliced out of the line in one piece.
        let mut quoted: Option<String> = None;
        let bytes = text.as_bytes();
        while i < len {
            if quoted.is_none() {
                // A run of plain ASCII (no quote, no whitespace), a byte per column.
                let run = i;
                let stop = continuation.unwrap_or(len).min(len);
                while i < stop && !ENDS_RUN[usize::from(bytes[i])] {
                    i += 1;
                }
                column += i - run;
                if i >= len {
                    break;
                }
            }
            let (c, l) = char_at(text, i);
            if c.is_whitespace() || Some(i) == continuation {
                break;
            }
            if c == '"' || c == '\'' {
                let word = quoted.get_or_insert_with(|| text[start..i].to_string());
                let open_column = column;
                i += l;
                column += 1;
                let mut closed = false;
                while i < len {
                    let (q, ql) = char_at(text, i);
                    i += ql;
                    column += 1;
                    if q == c {
                        closed = true;
                        break;
                    }
                    word.push(q);
                }
                if !closed {
                    return Err(CtlError::new(
                        Pos {
                            line: Some(line),
                            column: open_column,
                            word: 0,
                        },
                        format!("unterminated {c} quote"),
                    ));
                }
            } else {
                if let Some(word) = quoted.as_mut() {
                    word.push(c);
                }
                i += l;
                column += 1;
            }
        }
        words.push(Word {
            text: match quoted {
                Some(q) => Cow::Owned(q),
                None => Cow::Borrowed(&text[start..i]),
            },
            at: Pos {
                line: Some(line),
                column: start_column,
                word: 0,
            },
        });
    }
    Ok(LineEnd::End)
}

/// Numbers the words of one command from 0.
pub(crate) fn number_words(words: &mut [Word<'_>]) {
    for (index, word) in words.iter_mut().enumerate() {
        word.at.word = index;
    }
}

/// A token of a filter expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FilterToken {
    /// Its text.
    pub text: String,
    /// What it is.
    pub kind: FilterTokenKind,
    /// Where it starts.
    pub at: Pos,
}

/// Kinds of filter tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FilterTokenKind {
    /// `(`
    Open,
    /// `)`
    Close,
    /// A run of `=`, `!`, `<`, `>`.
    Operator,
    /// Anything else: a field, a keyword or a value.
    Word,
}

/// Re-splits the words of a filter: `key.x==1`, `(prio<10)` and one quoted argument holding
/// the whole expression all give the same tokens. Values never contain `()=!<>`, so these
/// characters always separate tokens.
pub(crate) fn filter_tokens(words: &[Word<'_>]) -> Vec<FilterToken> {
    let mut tokens = Vec::new();
    for word in words {
        let chars: Vec<char> = word.text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let at = Pos {
                column: word.at.column + i,
                ..word.at
            };
            if c.is_whitespace() {
                i += 1;
                continue;
            }
            let start = i;
            let kind = match c {
                '(' => {
                    i += 1;
                    FilterTokenKind::Open
                }
                ')' => {
                    i += 1;
                    FilterTokenKind::Close
                }
                '=' | '!' | '<' | '>' => {
                    while i < chars.len() && matches!(chars[i], '=' | '!' | '<' | '>') {
                        i += 1;
                    }
                    FilterTokenKind::Operator
                }
                _ => {
                    while i < chars.len()
                        && !chars[i].is_whitespace()
                        && !matches!(chars[i], '(' | ')' | '=' | '!' | '<' | '>')
                    {
                        i += 1;
                    }
                    FilterTokenKind::Word
                }
            };
            tokens.push(FilterToken {
                text: chars[start..i].iter().collect(),
                kind,
                at,
            });
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(line: &str) -> (Vec<String>, LineEnd) {
        let mut words = Vec::new();
        let end = lex_line(line, 1, &mut words).unwrap();
        (
            words.into_iter().map(|w| w.text.into_owned()).collect(),
            end,
        )
    }

    #[test]
    fn words_quotes_comments_and_continuations() {
        assert_eq!(
            texts("get p/t  filter \"key.a == 1\" # all"),
            (
                vec![
                    "get".into(),
                    "p/t".into(),
                    "filter".into(),
                    "key.a == 1".into()
                ],
                LineEnd::End
            )
        );
        assert_eq!(
            texts("a b \\"),
            (vec!["a".into(), "b".into()], LineEnd::Continues)
        );
        assert_eq!(
            texts("a b\\  "),
            (vec!["a".into(), "b".into()], LineEnd::Continues)
        );
        assert_eq!(texts("a#b"), (vec!["a#b".into()], LineEnd::End));
        assert_eq!(texts("   # nothing"), (vec![], LineEnd::End));
        let mut words = Vec::new();
        let err = lex_line("get 'oops", 7, &mut words).unwrap_err();
        assert_eq!(err.at.line, Some(7));
        assert_eq!(err.at.column, 5);
    }

    /// The ASCII fast path and the character path agree: quotes inside words, non-ASCII
    /// text (columns count characters), every kind of whitespace, `\\` right after a word.
    #[test]
    fn words_across_ascii_runs_and_other_characters() {
        assert_eq!(
            texts("ab\"c d\"e\u{b}f\u{a0}g"),
            (vec!["abc de".into(), "f".into(), "g".into()], LineEnd::End)
        );
        assert_eq!(texts("x\\"), (vec!["x".into()], LineEnd::Continues));
        let mut words = Vec::new();
        lex_line("ké  é1 z'é'", 3, &mut words).unwrap();
        let got: Vec<(String, usize)> = words
            .iter()
            .map(|w| (w.text.to_string(), w.at.column))
            .collect();
        assert_eq!(got, [("ké".into(), 1), ("é1".into(), 5), ("zé".into(), 8)]);
        assert!(matches!(words[0].text, Cow::Borrowed(_)), "no copy");
        let err = lex_line("abc é'x", 1, &mut Vec::new()).unwrap_err();
        assert_eq!(err.at.column, 6);
    }

    /// The plain-ASCII path gives what the general one gives, on every line it takes (and
    /// declines the lines it cannot read, leaving the words alone).
    #[test]
    fn plain_path_agrees_with_the_general_one() {
        let lines = [
            "create t dst 10 action send param port 1",
            "  a   b\tc\u{b}d\u{c}e\r ",
            "a b \\",
            "a b\\",
            "a b\\  \t",
            "\\",
            "# all comment \\",
            "a #b c",
            "a#b c # d \\",
            "a b\\c",
            "",
            "   ",
            "x 'q' y",
            "x é y",
            "x\u{a0}y",
            "é \\",
        ];
        for line in lines {
            let trimmed = line.trim_end();
            let continuation = trimmed.ends_with('\\').then(|| trimmed.len() - 1);
            let mut general = vec![Word {
                text: Cow::Borrowed("before"),
                at: Pos::default(),
            }];
            let mut plain = general.clone();
            let want = lex_general(line, 4, continuation, &mut general).expect("lexes");
            match lex_plain(line, 4, continuation, &mut plain) {
                Some(end) => {
                    assert_eq!(end, want, "{line:?}");
                    assert_eq!(plain, general, "{line:?}");
                }
                None => {
                    assert!(
                        line.bytes().any(|b| b >= 0x80 || b == b'\''),
                        "{line:?} is plain"
                    );
                    assert_eq!(plain.len(), 1, "{line:?}: words left alone");
                }
            }
        }
    }

    #[test]
    fn filter_tokens_split_operators_and_parentheses() {
        let words = words_of_args(&["(key.a==10.0.0.1/8", "and", "not(prio>=3))"]);
        let tokens: Vec<String> = filter_tokens(&words).into_iter().map(|t| t.text).collect();
        assert_eq!(
            tokens,
            [
                "(",
                "key.a",
                "==",
                "10.0.0.1/8",
                "and",
                "not",
                "(",
                "prio",
                ">=",
                "3",
                ")",
                ")"
            ]
        );
    }
}

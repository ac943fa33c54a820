//! The weighted grammar of the LaTeX-OCR domain and its rejection sampler (the authors'
//! `latex_decompiler/latex_cfg.py` object `latex_cfg`, `cfg.py` `CFG.sample` /
//! `CFG.rejection_sample`, kavigupta/sparling-repro; docs/latex.md).
//!
//! ```text
//! start                   ::= straightline_expression                  [1]
//!                           | FRAC( start FRACMID start FRAC)          [0.25]
//! straightline_expression ::= term | term '+' straightline_expression  [1 / 0.25]
//! term                    ::= atom | atom term                         [1 / 0.25]
//! atom                    ::= combined_symbol                          [1]
//!                           | PAREN( straightline_expression PAREN)    [0.25]
//! combined_symbol         ::= symbol | symbol SUP( symbol SUP) | symbol SUB( symbol SUB)
//! symbol                  ::= 0 | 1 | … | 9 | x | y | z | a | b | c
//! ```
//!
//! Sampling is **bit-exact** with the reference: `RandomState(seed)`, a target length drawn by
//! `choice(range(1, 31))`, then whole derivations of `start`, expanded top-down and left to
//! right with one `choice(len(prods), p=w/w.sum())` per nonterminal, until one has exactly
//! that many tokens (structure tokens included). A derivation is always expanded to the end,
//! even past the target length, because the reference draws every number of it; stopping
//! early would keep the distribution but change every later sample of the stream.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::LatexError;
use sparling_numpy::{NumpyRandomState, WeightedChoice};

/// One of the 16 symbols of the grammar: a digit `0`–`9` or a letter `a b c x y z`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "char", into = "char")]
pub struct MathSymbol(u8);

/// The symbols in the grammar's production order (`symbol_productions("0123456789xyzabc")`).
const SYMBOL_ORDER: &[u8; 16] = b"0123456789xyzabc";

impl MathSymbol {
    /// The symbol for `c`, if it is one of `0`–`9`, `a b c x y z`.
    #[must_use]
    pub fn new(c: char) -> Option<Self> {
        u8::try_from(c)
            .ok()
            .filter(|b| SYMBOL_ORDER.contains(b))
            .map(Self)
    }

    /// The character.
    #[must_use]
    pub fn char(self) -> char {
        char::from(self.0)
    }

    /// Whether it is a digit (set in `cmr`) rather than a letter (math italic, `cmmi`).
    #[must_use]
    pub fn is_digit(self) -> bool {
        self.0.is_ascii_digit()
    }

    /// Its character code in the Computer Modern fonts (ASCII).
    #[must_use]
    pub fn code(self) -> u8 {
        self.0
    }
}

impl TryFrom<char> for MathSymbol {
    type Error = LatexError;

    fn try_from(c: char) -> Result<Self, LatexError> {
        Self::new(c).ok_or_else(|| LatexError::UnknownToken(c.to_string()))
    }
}

impl From<MathSymbol> for char {
    fn from(s: MathSymbol) -> char {
        s.char()
    }
}

/// A token of the LaTeX grammar (the decoder's vocabulary minus `<s>` / `</s>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LatexToken {
    /// A digit or letter; emits itself.
    Symbol(MathSymbol),
    /// `+` (a binary operator).
    Plus,
    /// `SUP(`: `^{`.
    SupOpen,
    /// `SUP)`: `}`.
    SupClose,
    /// `SUB(`: `_{`.
    SubOpen,
    /// `SUB)`: `}`.
    SubClose,
    /// `FRAC(`: `\frac{`; its ground-truth symbol is the fraction bar.
    FracOpen,
    /// `FRACMID`: `}{`.
    FracMid,
    /// `FRAC)`: `}`.
    FracClose,
    /// `PAREN(`: `\left(`.
    ParenOpen,
    /// `PAREN)`: `\right)`.
    ParenClose,
}

impl LatexToken {
    /// The token's name in the decoder vocabulary (`Vocabulary::latex_cfg`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            LatexToken::Symbol(s) => symbol_str(s),
            LatexToken::Plus => "+",
            LatexToken::SupOpen => "SUP(",
            LatexToken::SupClose => "SUP)",
            LatexToken::SubOpen => "SUB(",
            LatexToken::SubClose => "SUB)",
            LatexToken::FracOpen => "FRAC(",
            LatexToken::FracMid => "FRACMID",
            LatexToken::FracClose => "FRAC)",
            LatexToken::ParenOpen => "PAREN(",
            LatexToken::ParenClose => "PAREN)",
        }
    }

    /// The LaTeX code the token emits.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            LatexToken::Symbol(s) => symbol_str(s),
            LatexToken::Plus => "+",
            LatexToken::SupOpen => "^{",
            LatexToken::SubOpen => "_{",
            LatexToken::SupClose | LatexToken::SubClose | LatexToken::FracClose => "}",
            LatexToken::FracOpen => "\\frac{",
            LatexToken::FracMid => "}{",
            LatexToken::ParenOpen => "\\left(",
            LatexToken::ParenClose => "\\right)",
        }
    }

    /// Parses a vocabulary name (`"7"`, `"FRAC("`, …).
    ///
    /// # Errors
    /// [`LatexError::UnknownToken`] for anything else (including `<s>` / `</s>`).
    pub fn from_name(name: &str) -> Result<Self, LatexError> {
        Ok(match name {
            "+" => LatexToken::Plus,
            "SUP(" => LatexToken::SupOpen,
            "SUP)" => LatexToken::SupClose,
            "SUB(" => LatexToken::SubOpen,
            "SUB)" => LatexToken::SubClose,
            "FRAC(" => LatexToken::FracOpen,
            "FRACMID" => LatexToken::FracMid,
            "FRAC)" => LatexToken::FracClose,
            "PAREN(" => LatexToken::ParenOpen,
            "PAREN)" => LatexToken::ParenClose,
            other => {
                let mut chars = other.chars();
                match (chars.next().and_then(MathSymbol::new), chars.next()) {
                    (Some(s), None) => LatexToken::Symbol(s),
                    _ => return Err(LatexError::UnknownToken(other.to_owned())),
                }
            }
        })
    }

    /// Id in [`crate::Vocabulary::latex_cfg`]: 2 `+`, 3–12 digits, 13 `FRAC(`, 14 `FRAC)`,
    /// 15 `FRACMID`, 16 `PAREN(`, 17 `PAREN)`, 18 `SUB(`, 19 `SUB)`, 20 `SUP(`, 21 `SUP)`,
    /// 22–27 `a b c x y z`.
    #[must_use]
    pub fn vocab_id(self) -> u32 {
        match self {
            LatexToken::Plus => 2,
            LatexToken::Symbol(s) if s.is_digit() => 3 + u32::from(s.0 - b'0'),
            LatexToken::Symbol(s) => match s.0 {
                b'a' => 22,
                b'b' => 23,
                b'c' => 24,
                b'x' => 25,
                b'y' => 26,
                _ => 27,
            },
            LatexToken::FracOpen => 13,
            LatexToken::FracClose => 14,
            LatexToken::FracMid => 15,
            LatexToken::ParenOpen => 16,
            LatexToken::ParenClose => 17,
            LatexToken::SubOpen => 18,
            LatexToken::SubClose => 19,
            LatexToken::SupOpen => 20,
            LatexToken::SupClose => 21,
        }
    }

    /// The token for a [`crate::Vocabulary::latex_cfg`] id (`None` for `<s>`, `</s>` and ids
    /// out of range).
    #[must_use]
    pub fn from_vocab_id(id: u32) -> Option<Self> {
        Some(match id {
            2 => LatexToken::Plus,
            3..=12 => LatexToken::Symbol(MathSymbol(b'0' + (id - 3) as u8)),
            13 => LatexToken::FracOpen,
            14 => LatexToken::FracClose,
            15 => LatexToken::FracMid,
            16 => LatexToken::ParenOpen,
            17 => LatexToken::ParenClose,
            18 => LatexToken::SubOpen,
            19 => LatexToken::SubClose,
            20 => LatexToken::SupOpen,
            21 => LatexToken::SupClose,
            22..=27 => LatexToken::Symbol(MathSymbol(b"abcxyz"[(id - 22) as usize])),
            _ => return None,
        })
    }

    /// The ground-truth symbol class this token is labelled with (the authors'
    /// `latex_decompiler/localize_latex_characters.py`, `symbols`): its character for symbols, `+`,
    /// `(`, `)`; the fraction bar for `FRAC(`; nothing for the other structure tokens.
    #[must_use]
    pub fn symbol_class(self) -> Option<SymbolClass> {
        match self {
            LatexToken::Symbol(s) => Some(SymbolClass::Symbol(s)),
            LatexToken::Plus => Some(SymbolClass::Plus),
            LatexToken::ParenOpen => Some(SymbolClass::LeftParen),
            LatexToken::ParenClose => Some(SymbolClass::RightParen),
            LatexToken::FracOpen => Some(SymbolClass::FractionBar),
            _ => None,
        }
    }
}

impl fmt::Display for LatexToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn symbol_str(s: MathSymbol) -> &'static str {
    const STRS: [&str; 16] = [
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "x", "y", "z", "a", "b", "c",
    ];
    let i = SYMBOL_ORDER.iter().position(|&b| b == s.0).unwrap_or(0);
    STRS[i]
}

/// The 20 ground-truth motif classes: 10 digits, `a b c x y z`, `+`, `(`, `)` and the
/// fraction bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SymbolClass {
    /// A digit or letter.
    Symbol(MathSymbol),
    /// `+`.
    Plus,
    /// `(` of `\left(`.
    LeftParen,
    /// `)` of `\right)`.
    RightParen,
    /// The rule of a `\frac` (the reference calls it `FRACBAR`).
    FractionBar,
}

impl SymbolClass {
    /// Number of classes.
    pub const COUNT: usize = 20;

    /// Class id in `0..20`, in the order of the reference's `sorted(all_symbols())`
    /// (ASCII order, the bar where the reference's `FRACBABR` sorts): 0 `(`, 1 `)`, 2 `+`,
    /// 3–12 `0`–`9`, 13 fraction bar, 14–19 `a b c x y z`.
    #[must_use]
    pub fn id(self) -> usize {
        match self {
            SymbolClass::LeftParen => 0,
            SymbolClass::RightParen => 1,
            SymbolClass::Plus => 2,
            SymbolClass::FractionBar => 13,
            SymbolClass::Symbol(s) => match LatexToken::Symbol(s).vocab_id() {
                id @ 3..=12 => id as usize,
                id => id as usize - 22 + 14,
            },
        }
    }

    /// The class with id `id` (see [`SymbolClass::id`]).
    #[must_use]
    pub fn from_id(id: usize) -> Option<Self> {
        Some(match id {
            0 => SymbolClass::LeftParen,
            1 => SymbolClass::RightParen,
            2 => SymbolClass::Plus,
            13 => SymbolClass::FractionBar,
            3..=12 | 14..=19 => {
                let vocab = if id <= 12 {
                    id as u32
                } else {
                    (id - 14 + 22) as u32
                };
                match LatexToken::from_vocab_id(vocab) {
                    Some(LatexToken::Symbol(s)) => SymbolClass::Symbol(s),
                    _ => return None,
                }
            }
            _ => return None,
        })
    }

    /// The reference's name: the character, or `FRACBAR`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            SymbolClass::Symbol(s) => symbol_str(s),
            SymbolClass::Plus => "+",
            SymbolClass::LeftParen => "(",
            SymbolClass::RightParen => ")",
            SymbolClass::FractionBar => "FRACBAR",
        }
    }
}

/// The LaTeX code of a token sequence: the tokens' codes concatenated (`"".join(tok.code)`).
#[must_use]
pub fn latex_code(tokens: &[LatexToken]) -> String {
    tokens.iter().map(|t| t.code()).collect()
}

/// Nonterminals of the grammar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Nt {
    Start,
    Expression,
    Term,
    Atom,
    Combined,
    Symbol,
}

#[derive(Clone, Copy, Debug)]
enum Element {
    Nt(Nt),
    Tok(LatexToken),
}

use Element::{Nt as N, Tok as T};

const START: &[&[Element]] = &[
    &[N(Nt::Expression)],
    &[
        T(LatexToken::FracOpen),
        N(Nt::Start),
        T(LatexToken::FracMid),
        N(Nt::Start),
        T(LatexToken::FracClose),
    ],
];
const EXPRESSION: &[&[Element]] = &[
    &[N(Nt::Term)],
    &[N(Nt::Term), T(LatexToken::Plus), N(Nt::Expression)],
];
const TERM: &[&[Element]] = &[&[N(Nt::Atom)], &[N(Nt::Atom), N(Nt::Term)]];
const ATOM: &[&[Element]] = &[
    &[N(Nt::Combined)],
    &[
        T(LatexToken::ParenOpen),
        N(Nt::Expression),
        T(LatexToken::ParenClose),
    ],
];
const COMBINED: &[&[Element]] = &[
    &[N(Nt::Symbol)],
    &[
        N(Nt::Symbol),
        T(LatexToken::SupOpen),
        N(Nt::Symbol),
        T(LatexToken::SupClose),
    ],
    &[
        N(Nt::Symbol),
        T(LatexToken::SubOpen),
        N(Nt::Symbol),
        T(LatexToken::SubClose),
    ],
];

/// The `latex_cfg` grammar with its precomputed production distributions.
#[derive(Clone, Debug)]
pub struct LatexGrammar {
    start: WeightedChoice,
    binary: WeightedChoice,
    combined: WeightedChoice,
    symbol: WeightedChoice,
}

/// Most tokens one derivation may produce before the sampler gives up. The reference recurses
/// in Python, which fails with `RecursionError` long before this; a derivation this long has
/// probability far below 10⁻¹⁰⁰.
const MAX_DERIVATION_TOKENS: usize = 1_000_000;
/// Most whole derivations drawn for one sample (the observed mean is 85, the maximum in 2,000
/// test samples a few thousand).
const MAX_ATTEMPTS: u64 = 100_000_000;

/// Counts of one rejection-sampling run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SampleStats {
    /// The target length drawn first.
    pub target_len: usize,
    /// Derivations drawn, the accepted one included.
    pub attempts: u64,
}

impl LatexGrammar {
    /// The reference's `latex_cfg`: `start` 1 / 0.25, the two list rules 1 / 0.25, `atom`
    /// 1 / 0.25, three equally likely `combined_symbol` forms and 16 equally likely symbols.
    #[must_use]
    pub fn paper() -> Self {
        // The weights are valid constants, so construction cannot fail; fall back to a
        // uniform distribution only to keep the code free of panics.
        let choice = |w: &[f64]| {
            WeightedChoice::from_weights(w).unwrap_or_else(|_| WeightedChoice::uniform(w.len()))
        };
        Self {
            start: choice(&[1.0, 0.25]),
            binary: choice(&[1.0, 0.25]),
            combined: choice(&[1.0, 1.0, 1.0]),
            symbol: choice(&[1.0; 16]),
        }
    }

    /// `CFG.sample("start", rng)`: one derivation, drawn to the end. Appends its tokens to
    /// `out` while there are at most `keep` of them (the rest is only counted) and returns the
    /// full token count.
    ///
    /// # Errors
    /// [`LatexError::DerivationTooLong`] past [`MAX_DERIVATION_TOKENS`] tokens.
    fn derive(
        &self,
        rng: &mut NumpyRandomState,
        out: &mut Vec<LatexToken>,
        keep: usize,
        stack: &mut Vec<Element>,
    ) -> Result<usize, LatexError> {
        stack.clear();
        stack.push(N(Nt::Start));
        let mut count = 0usize;
        while let Some(element) = stack.pop() {
            match element {
                T(tok) => {
                    count += 1;
                    if count <= keep {
                        out.push(tok);
                    }
                    if count > MAX_DERIVATION_TOKENS {
                        return Err(LatexError::DerivationTooLong {
                            limit: MAX_DERIVATION_TOKENS,
                        });
                    }
                }
                N(nt) => {
                    let production: &[Element] = match nt {
                        Nt::Start => START[self.start.sample(rng)],
                        Nt::Expression => EXPRESSION[self.binary.sample(rng)],
                        Nt::Term => TERM[self.binary.sample(rng)],
                        Nt::Atom => ATOM[self.binary.sample(rng)],
                        Nt::Combined => COMBINED[self.combined.sample(rng)],
                        Nt::Symbol => {
                            let i = self.symbol.sample(rng);
                            let c = SYMBOL_ORDER[i.min(SYMBOL_ORDER.len() - 1)];
                            stack.push(T(LatexToken::Symbol(MathSymbol(c))));
                            continue;
                        }
                    };
                    // Left to right: push the production reversed.
                    stack.extend(production.iter().rev().copied());
                }
            }
        }
        Ok(count)
    }

    /// `CFG.rejection_sample(seed, minimal_length, maximal_length)` on an existing stream:
    /// the target length `rng.choice(list(range(min_len, max_len + 1)))`, then derivations of
    /// `start` until one has exactly that many tokens.
    ///
    /// # Errors
    /// [`LatexError::InvalidLengthRange`] if `min_len` is 0 or above `max_len`;
    /// [`LatexError::SamplerExhausted`] / [`LatexError::DerivationTooLong`] (practically
    /// impossible, see the limits).
    pub fn rejection_sample(
        &self,
        rng: &mut NumpyRandomState,
        min_len: usize,
        max_len: usize,
    ) -> Result<(Vec<LatexToken>, SampleStats), LatexError> {
        if min_len == 0 || min_len > max_len {
            return Err(LatexError::InvalidLengthRange { min_len, max_len });
        }
        let offset = rng
            .choice(max_len - min_len + 1)
            .map_err(|_| LatexError::InvalidLengthRange { min_len, max_len })?;
        let target_len = min_len + offset;
        let mut tokens = Vec::with_capacity(target_len + 1);
        let mut stack = Vec::with_capacity(64);
        let mut attempts = 0u64;
        while attempts < MAX_ATTEMPTS {
            attempts += 1;
            tokens.clear();
            let n = self.derive(rng, &mut tokens, target_len, &mut stack)?;
            if n == target_len {
                return Ok((
                    tokens,
                    SampleStats {
                        target_len,
                        attempts,
                    },
                ));
            }
        }
        Err(LatexError::SamplerExhausted {
            attempts: MAX_ATTEMPTS,
            target_len,
        })
    }
}

impl Default for LatexGrammar {
    fn default() -> Self {
        Self::paper()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::Vocabulary;

    #[test]
    fn vocab_ids_match_vocabulary() {
        let vocab = Vocabulary::latex_cfg();
        for id in 2..28 {
            let tok = LatexToken::from_vocab_id(id).expect("token id");
            assert_eq!(tok.vocab_id(), id);
            assert_eq!(vocab.id(tok.name()), Some(id), "{tok}");
            assert_eq!(LatexToken::from_name(tok.name()).ok(), Some(tok));
        }
        assert!(LatexToken::from_vocab_id(0).is_none());
        assert!(LatexToken::from_vocab_id(28).is_none());
        assert!(LatexToken::from_name("<s>").is_err());
        assert!(LatexToken::from_name("q").is_err());
    }

    #[test]
    fn symbol_classes_are_the_twenty_sorted_names() {
        let mut names = Vec::new();
        for id in 0..SymbolClass::COUNT {
            let class = SymbolClass::from_id(id).expect("class id");
            assert_eq!(class.id(), id);
            names.push(if class == SymbolClass::FractionBar {
                "FRACBABR"
            } else {
                class.name()
            });
        }
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        assert!(SymbolClass::from_id(20).is_none());
    }

    #[test]
    fn code_is_concatenated() {
        let toks: Vec<LatexToken> = ["FRAC(", "b", "FRACMID", "a", "SUB(", "0", "SUB)", "FRAC)"]
            .iter()
            .map(|n| LatexToken::from_name(n).expect("name"))
            .collect();
        assert_eq!(latex_code(&toks), "\\frac{b}{a_{0}}");
    }
}

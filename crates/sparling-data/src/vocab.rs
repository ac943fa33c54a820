//! Decoder vocabularies: `<s>`, `</s>`, then the domain's symbols (`latex_decompiler/model.py`
//! `CFGDecoder`: `tokens = [START, END] + cfg.all_tokens()`).
//!
//! DigitCircle uses [`Vocabulary::digit_circle`] (12 tokens). The LaTeX domain and the audio domain
//! share the 28-token LaTeX-CFG vocabulary, [`Vocabulary::latex_cfg`] (the decoder vocabulary of
//! the authors' `latex_decompiler/latex_cfg.py` grammar, which `aum-2ka1.py` also uses: the audio
//! targets use only its digits, ids 3–12).

use std::collections::HashMap;

use crate::error::DataError;

/// Name of the start token.
pub const BOS: &str = "<s>";
/// Name of the end (and padding) token.
pub const EOS: &str = "</s>";

/// A token vocabulary: id 0 is `<s>`, id 1 is `</s>`, then the domain symbols in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vocabulary {
    tokens: Vec<String>,
    index: HashMap<String, u32>,
}

impl Vocabulary {
    /// Id of `<s>`.
    pub const BOS_ID: u32 = 0;
    /// Id of `</s>`.
    pub const EOS_ID: u32 = 1;

    /// Builds `[<s>, </s>, symbols…]`.
    ///
    /// # Errors
    /// [`DataError::UnknownToken`] naming the first symbol that is repeated or that collides
    /// with `<s>` / `</s>`.
    pub fn new<I, S>(symbols: I) -> Result<Self, DataError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut tokens = vec![BOS.to_owned(), EOS.to_owned()];
        tokens.extend(symbols.into_iter().map(Into::into));
        let mut index = HashMap::with_capacity(tokens.len());
        for (id, name) in tokens.iter().enumerate() {
            let id = u32::try_from(id).map_err(|_| DataError::UnknownToken(name.clone()))?;
            if index.insert(name.clone(), id).is_some() {
                return Err(DataError::UnknownToken(format!("{name} (duplicate)")));
            }
        }
        Ok(Self { tokens, index })
    }

    /// The DigitCircle vocabulary `[<s>, </s>, '0', …, '9']`: digit `d` has id `d + 2`.
    #[must_use]
    pub fn digit_circle() -> Self {
        let tokens: Vec<String> = [BOS, EOS]
            .into_iter()
            .map(str::to_owned)
            .chain((0..10).map(|d: u32| d.to_string()))
            .collect();
        let index = tokens
            .iter()
            .zip(0u32..)
            .map(|(name, id)| (name.clone(), id))
            .collect();
        Self { tokens, index }
    }

    /// The LaTeX-CFG decoder vocabulary (28 tokens): `[<s>, </s>] + sorted(token names)`,
    /// i.e. 0 `<s>`, 1 `</s>`, 2 `+`, 3–12 `0`–`9`, 13 `FRAC(`, 14 `FRAC)`, 15 `FRACMID`,
    /// 16 `PAREN(`, 17 `PAREN)`, 18 `SUB(`, 19 `SUB)`, 20 `SUP(`, 21 `SUP)`, 22–27 `a b c x y z`.
    ///
    /// The audio model decodes over it too (digit `d` is id `d + 3`).
    #[must_use]
    pub fn latex_cfg() -> Self {
        let mut names: Vec<String> = ["+", "FRAC(", "FRAC)", "FRACMID", "PAREN(", "PAREN)"]
            .into_iter()
            .chain(["SUB(", "SUB)", "SUP(", "SUP)", "a", "b", "c", "x", "y", "z"])
            .map(str::to_owned)
            .chain((0..10).map(|d: u32| d.to_string()))
            .collect();
        // Python's sorted() on ASCII names is byte order, which is what sort() does here.
        names.sort_unstable();
        let tokens: Vec<String> = [BOS, EOS]
            .into_iter()
            .map(str::to_owned)
            .chain(names)
            .collect();
        let index = tokens
            .iter()
            .zip(0u32..)
            .map(|(name, id)| (name.clone(), id))
            .collect();
        Self { tokens, index }
    }

    /// Number of tokens, `<s>` and `</s>` included.
    #[must_use]
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Always false: `<s>` and `</s>` are always present.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// All token names, in id order.
    #[must_use]
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    /// Id of a token name.
    #[must_use]
    pub fn id(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    /// Name of a token id.
    #[must_use]
    pub fn name(&self, id: u32) -> Option<&str> {
        self.tokens.get(id as usize).map(String::as_str)
    }

    /// Training target `<s> names… </s>` as ids.
    ///
    /// # Errors
    /// [`DataError::UnknownToken`] for a name outside the vocabulary.
    pub fn encode<S: AsRef<str>>(&self, names: &[S]) -> Result<Vec<u32>, DataError> {
        let mut ids = Vec::with_capacity(names.len() + 2);
        ids.push(Self::BOS_ID);
        for name in names {
            let name = name.as_ref();
            ids.push(
                self.id(name)
                    .ok_or_else(|| DataError::UnknownToken(name.to_owned()))?,
            );
        }
        ids.push(Self::EOS_ID);
        Ok(ids)
    }

    /// Token names of a predicted sequence, as `strip_start_and_end_tokens`: a leading `<s>`
    /// is dropped and the sequence is cut at the first `</s>`.
    ///
    /// (The Python asserts the leading `<s>`; here a sequence without it is accepted as is.)
    ///
    /// # Errors
    /// [`DataError::TokenIdOutOfRange`] for an id outside the vocabulary.
    pub fn decode(&self, ids: &[u32]) -> Result<Vec<&str>, DataError> {
        let body = match ids.first() {
            Some(&Self::BOS_ID) => &ids[1..],
            _ => ids,
        };
        let mut names = Vec::with_capacity(body.len());
        for &id in body {
            if id == Self::EOS_ID {
                break;
            }
            names.push(self.name(id).ok_or(DataError::TokenIdOutOfRange {
                id,
                size: self.len(),
            })?);
        }
        Ok(names)
    }

    /// Pads encoded sequences with `</s>` to the longest one (`CFGDecoder.embed_all`).
    #[must_use]
    pub fn pad_batch(&self, sequences: &[Vec<u32>]) -> PaddedBatch {
        let max_len = sequences.iter().map(Vec::len).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(sequences.len() * max_len);
        let mut padding_mask = Vec::with_capacity(sequences.len() * max_len);
        for seq in sequences {
            ids.extend_from_slice(seq);
            ids.resize(ids.len() + max_len - seq.len(), Self::EOS_ID);
            padding_mask.extend(std::iter::repeat_n(false, seq.len()));
            padding_mask.extend(std::iter::repeat_n(true, max_len - seq.len()));
        }
        PaddedBatch {
            ids,
            padding_mask,
            batch_size: sequences.len(),
            max_len,
        }
    }
}

/// A batch of token sequences padded to a common length, row-major `[batch_size, max_len]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaddedBatch {
    /// Token ids, padded with `</s>`.
    pub ids: Vec<u32>,
    /// `true` on padding positions (PyTorch's `tgt_key_padding_mask` convention). The real
    /// `</s>` of each sequence is *not* padding.
    pub padding_mask: Vec<bool>,
    /// Number of sequences.
    pub batch_size: usize,
    /// Length of the longest sequence (`<s>` and `</s>` included).
    pub max_len: usize,
}

impl PaddedBatch {
    /// The ids of sequence `i`, padding included.
    #[must_use]
    pub fn row(&self, i: usize) -> Option<&[u32]> {
        let start = i.checked_mul(self.max_len)?;
        self.ids.get(start..start + self.max_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_vocab_layout() {
        let v = Vocabulary::digit_circle();
        assert_eq!(v.len(), 12);
        assert_eq!(v.id("<s>"), Some(0));
        assert_eq!(v.id("</s>"), Some(1));
        assert_eq!(v.id("7"), Some(9));
        assert_eq!(
            v,
            Vocabulary::new((0..10).map(|d| d.to_string())).expect("valid")
        );
    }

    #[test]
    fn latex_cfg_vocab_layout() {
        let v = Vocabulary::latex_cfg();
        assert_eq!(v.len(), 28);
        let want = [
            "<s>", "</s>", "+", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "FRAC(", "FRAC)",
            "FRACMID", "PAREN(", "PAREN)", "SUB(", "SUB)", "SUP(", "SUP)", "a", "b", "c", "x", "y",
            "z",
        ];
        assert_eq!(v.tokens(), want);
        assert_eq!(v.id("7"), Some(10));
        assert_eq!(v.encode(&["4", "0"]).expect("known"), vec![0, 7, 3, 1]);
    }

    #[test]
    fn encode_decode_round_trip() {
        let v = Vocabulary::digit_circle();
        let ids = v.encode(&["3", "7", "6"]).expect("known tokens");
        assert_eq!(ids, vec![0, 5, 9, 8, 1]);
        assert_eq!(v.decode(&ids).expect("in range"), vec!["3", "7", "6"]);
        assert_eq!(v.decode(&[0, 5, 1, 9, 9]).expect("in range"), vec!["3"]);
        assert!(v.encode(&["x"]).is_err());
        assert!(v.decode(&[0, 99]).is_err());
    }

    #[test]
    fn padding_uses_end_token_and_mask() {
        let v = Vocabulary::digit_circle();
        let a = v.encode(&["1", "2", "3"]).expect("known");
        let b = v.encode(&["4", "5", "6", "7"]).expect("known");
        let batch = v.pad_batch(&[a, b]);
        assert_eq!(batch.max_len, 6);
        assert_eq!(batch.row(0), Some(&[0, 3, 4, 5, 1, 1][..]));
        assert_eq!(
            batch.padding_mask[..6],
            [false, false, false, false, false, true]
        );
        assert!(batch.padding_mask[6..].iter().all(|&m| !m));
    }

    #[test]
    fn duplicate_symbols_are_rejected() {
        assert!(Vocabulary::new(["a", "a"]).is_err());
        assert!(Vocabulary::new(["</s>"]).is_err());
    }
}

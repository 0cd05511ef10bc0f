//! "Did you mean …?": the closest of a list of names to a misspelt one, for the unknown
//! activation, argument and function errors.

/// The candidate closest to `word` by edit distance, if it is close enough to be a likely typo
/// (distance ≤ 1 + len/3), or if `word` is a prefix of exactly one candidate.
pub fn closest(word: &str, candidates: impl Iterator<Item = &'static str>) -> Option<&'static str> {
    let candidates: Vec<&'static str> = candidates.collect();
    let best = candidates
        .iter()
        .map(|&c| (edit_distance(word, c), c))
        .min_by_key(|&(d, _)| d);
    if let Some((d, c)) = best {
        if d <= 1 + word.chars().count() / 3 {
            return Some(c);
        }
    }
    let prefixed: Vec<&&str> = candidates.iter().filter(|c| c.starts_with(word)).collect();
    match (word.is_empty(), prefixed.as_slice()) {
        (false, [only]) => Some(only),
        _ => None,
    }
}

/// Levenshtein distance (insertions, deletions, substitutions), one row at a time.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("mish", "mish"), 0);
        assert_eq!(edit_distance("mihs", "mish"), 2);
        assert_eq!(edit_distance("relu", "relu6"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}

//! "Did you mean …?": the closest of a list of names to a misspelt one, for the unknown
//! activation, argument and function errors. The distance is `strsim`'s Levenshtein distance
//! (insertions, deletions, substitutions, counted in characters), as clap uses for its own
//! suggestions.

/// The candidate closest to `word` by edit distance, if it is close enough to be a likely typo
/// (distance ≤ 1 + len/3), or if `word` is a prefix of exactly one candidate.
pub fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let candidates: Vec<&'a str> = candidates.collect();
    let best = candidates
        .iter()
        .map(|&c| (strsim::levenshtein(word, c), c))
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

#[cfg(test)]
mod tests {

    use strsim::levenshtein;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(levenshtein("mish", "mish"), 0);
        assert_eq!(levenshtein("mihs", "mish"), 2);
        assert_eq!(levenshtein("relu", "relu6"), 1);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        // characters, not bytes: one substitution each
        assert_eq!(levenshtein("sigmα", "sigma"), 1);
        assert_eq!(levenshtein("tanh·", "tanh("), 1);
    }

    /// `strsim` gives the distances the former hand-written function gave, from every
    /// registered name and alias misspelt four ways (a letter dropped, doubled, swapped with the
    /// next, replaced) to every name, so [`closest`], which only compares distances, suggests
    /// the same names.
    #[test]
    fn suggestions_match_the_former_hand_written_distance() {
        fn former(a: &str, b: &str) -> usize {
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
        let names = crate::activation::names();
        let mut checked = 0;
        for name in &names {
            let chars: Vec<char> = name.chars().collect();
            for i in 0..chars.len() {
                let mut typos = Vec::new();
                let mut dropped = chars.clone();
                dropped.remove(i);
                typos.push(dropped);
                let mut doubled = chars.clone();
                doubled.insert(i, chars[i]);
                typos.push(doubled);
                if i + 1 < chars.len() {
                    let mut swapped = chars.clone();
                    swapped.swap(i, i + 1);
                    typos.push(swapped);
                }
                let mut replaced = chars.clone();
                replaced[i] = 'q';
                typos.push(replaced);
                for typo in typos {
                    let typo: String = typo.into_iter().collect();
                    for candidate in &names {
                        assert_eq!(levenshtein(&typo, candidate), former(&typo, candidate));
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 500, "{checked}");
    }
}

//! Capacity provider strategies: which provider a new task goes to, and which provider gives up
//! a task on scale-in.
//!
//! First the provider with a `base` until it holds that many of the owner's live tasks, then the
//! provider furthest below its weighted share of the tasks beyond the bases, ties to the one
//! listed first. With weights 1 and 4 that gives B, B, B, A, B, ...: one task on A for every four
//! on B (ECS-DG `cluster-capacity-providers.html`; the exact rounding is not documented).

/// One item of a strategy, as the choice needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Share {
    pub(crate) base: u32,
    pub(crate) weight: u32,
}

/// The item for a new task, given the live tasks per item.
pub(crate) fn choose_item(items: &[Share], counts: &[u32]) -> usize {
    if let Some(k) = items.iter().zip(counts).position(|(it, &c)| c < it.base) {
        return k;
    }
    let mut best: Option<usize> = None;
    for (k, it) in items.iter().enumerate() {
        if it.weight == 0 {
            continue;
        }
        let e = u64::from(counts[k].saturating_sub(it.base)) + 1;
        best = match best {
            None => Some(k),
            Some(b) => {
                let eb = u64::from(counts[b].saturating_sub(items[b].base)) + 1;
                // e / w < eb / wb  <=>  e * wb < eb * w
                if e * u64::from(items[b].weight) < eb * u64::from(it.weight) {
                    Some(k)
                } else {
                    Some(b)
                }
            }
        };
    }
    best.expect("validation guarantees a positive weight")
}

/// The item to take a task from when scaling in: the one furthest above its weighted share,
/// never below its base while another can give.
pub(crate) fn shrink_item(items: &[Share], counts: &[u32]) -> usize {
    let mut best: Option<(usize, u64, u64)> = None; // (k, excess, weight): compare excess/weight
    for (k, it) in items.iter().enumerate() {
        if counts[k] == 0 {
            continue;
        }
        let excess = u64::from(counts[k].saturating_sub(it.base));
        let w = u64::from(it.weight);
        let better = match best {
            None => true,
            Some((_, be, bw)) => {
                if excess == 0 || be == 0 {
                    excess > be
                } else if w == 0 || bw == 0 {
                    w == 0 && bw != 0
                } else {
                    excess * bw > be * w
                }
            }
        };
        if better {
            best = Some((k, excess, w));
        }
    }
    best.map_or(0, |b| b.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(base: u32, weight: u32) -> Share {
        Share { base, weight }
    }

    /// Launch `n` tasks one by one and return the chosen items.
    fn sequence(items: &[Share], n: usize) -> Vec<usize> {
        let mut counts = vec![0; items.len()];
        (0..n)
            .map(|_| {
                let k = choose_item(items, &counts);
                counts[k] += 1;
                k
            })
            .collect()
    }

    #[test]
    fn weights_1_and_4_give_one_task_on_a_for_every_four_on_b() {
        // ECS-DG cluster-capacity-providers.html: weight 1 and 4 → 1 of every 5 tasks on A.
        let seq = sequence(&[s(0, 1), s(0, 4)], 10);
        assert_eq!(seq, vec![1, 1, 1, 0, 1, 1, 1, 1, 0, 1]);
        assert_eq!(seq.iter().filter(|&&k| k == 0).count(), 2);
    }

    #[test]
    fn the_base_is_filled_first_then_weights_split_the_rest() {
        // ECS-DG: "base: how many tasks, at a minimum, run on the provider"; the weights apply
        // beyond the base.
        let seq = sequence(&[s(2, 1), s(0, 1)], 6);
        assert_eq!(&seq[..2], &[0, 0]);
        let rest = &seq[2..];
        assert_eq!(rest.iter().filter(|&&k| k == 0).count(), 2);
        assert_eq!(rest.iter().filter(|&&k| k == 1).count(), 2);
    }

    #[test]
    fn zero_weight_items_get_only_their_base() {
        let seq = sequence(&[s(1, 0), s(0, 1)], 5);
        assert_eq!(seq, vec![0, 1, 1, 1, 1]);
    }

    #[test]
    fn scale_in_takes_from_the_item_furthest_above_its_share_and_keeps_the_base() {
        // 1:4 split with 2 on A and 3 on B: A is above its share (1 of 5).
        assert_eq!(shrink_item(&[s(0, 1), s(0, 4)], &[2, 3]), 0);
        // A holds only its base: B gives.
        assert_eq!(shrink_item(&[s(2, 1), s(0, 1)], &[2, 1]), 1);
        // Zero-weight items beyond their base go first.
        assert_eq!(shrink_item(&[s(0, 1), s(0, 0)], &[3, 1]), 1);
    }
}

//! `ecsim size`: the search for the cheapest configuration that meets every objective.
//!
//! # The `[search]` table of a scenario
//! ```toml
//! [search]
//! seeds = 5               # paired seeds per candidate (common random numbers), default 5
//! confidence = 0.95       # one-sided confidence of each objective's bound, default 0.95
//! [[search.knobs]]
//! name = "type"
//! paths = ["clusters[0].instance_type"]          # any --set path; several move together
//! values = ["c6g.xlarge", "m6g.xlarge"]
//! [[search.knobs]]
//! name = "count"
//! paths = ["clusters[0].count"]
//! range = { from = 1, to = 16, step = 1 }
//! monotone = true         # later values never make an objective harder to meet
//! [[search.knobs]]
//! name = "platform"       # values that set several fields: named sets of overrides
//! options = [{ name = "ec2", set = {} },
//!            { name = "fargate", set = { "clusters[0].count" = 0, "services[0].launch_type" = "FARGATE" } }]
//! ```
//! Overrides apply knob by knob in file order, so a later knob's value wins over an earlier
//! one's on the same field.
//!
//! Candidates are the grid of the knobs' values (the last varies fastest). Knobs that are not
//! `monotone` are enumerated; along the monotone knob (at most one) each combination of the
//! others is bisected: its first value is tried, then its last, then the middle of the
//! smallest bracket that holds the first feasible value. Cost is assumed not to fall along the
//! monotone knob either, so the first feasible value is that combination's cheapest, and a
//! combination whose cheapest tried value already costs more than the best feasible candidate
//! found is dropped (early discard). The search goes in rounds: every live combination proposes
//! one candidate, all are run (in parallel by the caller), then the results are recorded in
//! candidate order, so the outcome does not depend on the thread count.

use crate::objectives::Judged;
use crate::scenario::read::{Cx, Diagnostic, NameRule, Tbl, read_document, read_variant};
use crate::scenario::tree::{Kind, Node, Step};
use crate::sweep::{Parameter, read_parameter};

/// The most candidates a search grid may have.
pub const MAX_CANDIDATES: usize = 10_000;

/// Overrides as `--set` applies them: (path as written, steps, value).
pub type Overrides = Vec<(String, Vec<Step>, Node)>;

/// One knob of the search.
#[derive(Debug, Clone)]
pub struct Knob {
    /// Its name (a column of `size.csv`).
    pub name: String,
    /// Its values: a label and the overrides that set it.
    pub values: Vec<(String, Overrides)>,
    /// Later values never make an objective harder to meet (bisected, not enumerated).
    pub monotone: bool,
}

impl Knob {
    fn from_parameter(p: Parameter, monotone: bool) -> Knob {
        let values = p
            .values
            .iter()
            .map(|(label, node)| {
                let o = p
                    .paths
                    .iter()
                    .map(|(path, steps)| (path.clone(), steps.clone(), node.clone()))
                    .collect();
                (label.clone(), o)
            })
            .collect();
        Knob {
            name: p.name,
            values,
            monotone,
        }
    }
}

/// A scenario's `[search]` table.
#[derive(Debug, Clone)]
pub struct Search {
    /// Seeds per candidate.
    pub seeds: u32,
    /// Confidence of the one-sided bounds.
    pub confidence: f64,
    /// The knobs, in file order.
    pub knobs: Vec<Knob>,
}

/// Read a scenario's `[search]` table; `Ok(None)` if it has none.
pub fn read(file: &str, src: &str) -> Result<Option<Search>, Vec<Diagnostic>> {
    read_document(file, src, |cx, root| {
        let Kind::Table(entries) = &root.kind else {
            return Some(None);
        };
        let Some((_, _, node)) = entries.iter().find(|(k, _, _)| k == "search") else {
            return Some(None);
        };
        read_search(cx, node).map(Some)
    })
}

fn read_search(cx: &mut Cx<'_>, node: &Node) -> Option<Search> {
    let mut t = cx.table(node, "search")?;
    let seeds = t
        .opt(cx, "seeds", |cx, n, p| cx.u32(n, p, 1, 10_000))
        .unwrap_or(5);
    let confidence = t
        .opt(cx, "confidence", |cx, n, p| cx.number(n, p, 0.5, 0.9999))
        .unwrap_or(0.95);
    let knobs = t.tables(cx, "knobs", |cx, kt, _| read_knob(cx, kt));
    let origin = t.origin.clone();
    t.finish(cx);
    let (knobs, all) = knobs.unwrap_or_default();
    if !all {
        return None;
    }
    if knobs.is_empty() {
        cx.error(
            &origin,
            "search.knobs",
            "missing; a search varies at least one [[search.knobs]] entry (name, paths, values or range)",
        );
        return None;
    }
    check_knobs(cx, node, &knobs)?;
    Some(Search {
        seeds,
        confidence,
        knobs,
    })
}

fn read_knob(cx: &mut Cx<'_>, mut t: Tbl<'_>) -> Option<Knob> {
    let monotone = t
        .opt(cx, "monotone", |cx, n, p| cx.boolean(n, p))
        .unwrap_or(false);
    if t.has("options") {
        return read_options(cx, t, monotone);
    }
    let parameter = read_parameter(cx, t)?;
    Some(Knob::from_parameter(parameter, monotone))
}

/// A knob whose values are named sets of overrides:
/// `options = [{ name = "fargate", set = { "path" = value, ... } }, ...]`.
fn read_options(cx: &mut Cx<'_>, mut t: Tbl<'_>, monotone: bool) -> Option<Knob> {
    let name = t.req(cx, "name", "a knob name", |cx, n, p| {
        cx.name(n, p, NameRule::Printable)
    });
    let options = t.tables(cx, "options", |cx, o, _| read_variant(cx, o));
    let origin = t.origin.clone();
    let path = t.child("options");
    t.finish(cx);
    let (options, all) = options?;
    if !all {
        return None;
    }
    if options.is_empty() {
        cx.error(&origin, &path, "expected at least one option");
        return None;
    }
    Some(Knob {
        name: name?,
        values: options.into_iter().map(|v| (v.name, v.overrides)).collect(),
        monotone,
    })
}

/// Names differ, at most one knob is monotone, and the grid is not too large.
fn check_knobs(cx: &mut Cx<'_>, node: &Node, knobs: &[Knob]) -> Option<()> {
    let mut ok = true;
    for (i, k) in knobs.iter().enumerate() {
        if knobs[..i].iter().any(|o| o.name == k.name) {
            cx.error(
                &node.origin,
                &format!("search.knobs[{i}].name"),
                format!("two knobs are named \"{}\"", k.name),
            );
            ok = false;
        }
    }
    if knobs.iter().filter(|k| k.monotone).count() > 1 {
        cx.error(
            &node.origin,
            "search.knobs",
            "more than one knob has monotone = true; bisection runs along one knob, the others are enumerated",
        );
        ok = false;
    }
    let size = knobs
        .iter()
        .try_fold(1usize, |n, k| n.checked_mul(k.values.len()));
    if size.is_none_or(|s| s > MAX_CANDIDATES) {
        cx.error(
            &node.origin,
            "search.knobs",
            format!("the knobs make more than {MAX_CANDIDATES} candidates; search fewer values"),
        );
        ok = false;
    }
    ok.then_some(())
}

impl Search {
    /// Number of candidates (the grid size).
    pub fn candidates(&self) -> usize {
        self.knobs.iter().map(|k| k.values.len()).product()
    }

    /// The value index of each knob at a candidate.
    pub fn coordinates(&self, candidate: usize) -> Vec<usize> {
        let mut rest = candidate;
        let mut out = vec![0; self.knobs.len()];
        for (k, knob) in self.knobs.iter().enumerate().rev() {
            out[k] = rest % knob.values.len();
            rest /= knob.values.len();
        }
        out
    }

    fn index(&self, coords: &[usize]) -> usize {
        coords
            .iter()
            .zip(&self.knobs)
            .fold(0, |acc, (&c, k)| acc * k.values.len() + c)
    }

    /// Labels of the knob values at a candidate.
    pub fn labels(&self, candidate: usize) -> Vec<String> {
        self.coordinates(candidate)
            .iter()
            .zip(&self.knobs)
            .map(|(&i, k)| k.values[i].0.clone())
            .collect()
    }

    /// A candidate as a scenario variant (its overrides applied before validation).
    pub fn variant(&self, candidate: usize) -> crate::scenario::Variant {
        let mut overrides = Vec::new();
        for (&i, k) in self.coordinates(candidate).iter().zip(&self.knobs) {
            overrides.extend(k.values[i].1.iter().cloned());
        }
        crate::scenario::Variant {
            name: self.labels(candidate).join(","),
            description: String::new(),
            overrides,
        }
    }

    /// The run seeds of every candidate (the same for all: common random numbers).
    pub fn run_seeds(&self, seed: u64) -> Vec<u64> {
        (0..self.seeds)
            .map(|r| ecsim_engine::seed_for_index(seed, u64::from(r)))
            .collect()
    }
}

/// A candidate's result: its mean monthly cost and whether it met every objective.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Mean monthly cost over the seeds, dollars.
    pub cost: f64,
    /// Each objective, judged over the seeds.
    pub objectives: Vec<Judged>,
}

impl Evaluation {
    /// Whether every objective was met.
    pub fn feasible(&self) -> bool {
        self.objectives.iter().all(|j| j.met)
    }
}

/// Where the bisection of one combination of the enumerated knobs stands.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Combo {
    /// The first value is to be tried.
    First,
    /// The first value failed; the last is to be tried.
    Last,
    /// `lo` fails, `hi` meets every objective: the answer is in (lo, hi].
    Bracket { lo: usize, hi: usize },
    /// Settled (its cheapest feasible value found, none, or dropped by cost).
    Done,
}

/// The search: which candidates to run next, and what was found.
#[derive(Debug, Clone)]
pub struct Planner {
    /// Index of the monotone knob, if any.
    mono: Option<usize>,
    /// Number of values of the monotone knob (1 without one).
    steps: usize,
    /// For each combination: its first candidate's coordinates and its state.
    combos: Vec<(Vec<usize>, Combo)>,
    /// Every candidate evaluated, in the order recorded, with its round.
    pub evaluated: Vec<(usize, usize, Evaluation)>,
    /// Combinations dropped because their cheapest value cost more than the best found.
    pub discarded: usize,
    round: usize,
}

impl Planner {
    /// A planner over the search's grid.
    pub fn new(search: &Search) -> Planner {
        let mono = search.knobs.iter().position(|k| k.monotone);
        let steps = mono.map_or(1, |m| search.knobs[m].values.len());
        let mut combos = Vec::new();
        for c in 0..search.candidates() {
            let coords = search.coordinates(c);
            if mono.is_none_or(|m| coords[m] == 0) {
                combos.push((coords, Combo::First));
            }
        }
        Planner {
            mono,
            steps,
            combos,
            evaluated: Vec::new(),
            discarded: 0,
            round: 0,
        }
    }

    fn at(&self, search: &Search, combo: usize, step: usize) -> usize {
        let mut coords = self.combos[combo].0.clone();
        if let Some(m) = self.mono {
            coords[m] = step;
        }
        search.index(&coords)
    }

    /// The candidate each live combination tries next, in candidate order; empty when the
    /// search is over.
    pub fn next_round(&self, search: &Search) -> Vec<usize> {
        let mut out: Vec<usize> = (0..self.combos.len())
            .filter_map(|c| {
                let step = match self.combos[c].1 {
                    Combo::First => 0,
                    Combo::Last => self.steps - 1,
                    Combo::Bracket { lo, hi } => lo + (hi - lo) / 2,
                    Combo::Done => return None,
                };
                Some(self.at(search, c, step))
            })
            .collect();
        out.sort_unstable();
        out
    }

    /// Record a round's results (`(candidate, evaluation)` for every candidate of
    /// [`Planner::next_round`]), move every combination on, and drop those that cannot beat the
    /// best feasible candidate.
    pub fn record(&mut self, search: &Search, results: Vec<(usize, Evaluation)>) {
        for (cand, ev) in results {
            let coords = search.coordinates(cand);
            let step = self.mono.map_or(0, |m| coords[m]);
            let combo = self
                .combos
                .iter()
                .position(|(c, _)| {
                    c.iter()
                        .zip(&coords)
                        .enumerate()
                        .all(|(k, (a, b))| Some(k) == self.mono || a == b)
                })
                .expect("a candidate of the grid");
            let feasible = ev.feasible();
            let state = &mut self.combos[combo].1;
            *state = match (*state, feasible) {
                (_, true) if step == 0 => Combo::Done,
                (Combo::First, false) if self.steps > 1 => Combo::Last,
                (Combo::Last, true) if step > 1 => Combo::Bracket { lo: 0, hi: step },
                (Combo::Bracket { hi, .. }, false) if hi > step + 1 => {
                    Combo::Bracket { lo: step, hi }
                }
                (Combo::Bracket { lo, .. }, true) if step > lo + 1 => {
                    Combo::Bracket { lo, hi: step }
                }
                _ => Combo::Done,
            };
            self.evaluated.push((cand, self.round, ev));
        }
        self.round += 1;
        self.discard(search);
    }

    /// Drop every live combination whose cheapest candidate tried costs more than the best
    /// feasible candidate (cost does not fall along the monotone knob).
    fn discard(&mut self, search: &Search) {
        let Some((_, best)) = self.best() else {
            return;
        };
        let best_cost = best.cost;
        for c in 0..self.combos.len() {
            if self.combos[c].1 == Combo::Done {
                continue;
            }
            let first = self.at(search, c, 0);
            let floor = self
                .evaluated
                .iter()
                .find(|(cand, _, _)| *cand == first)
                .map(|(_, _, e)| e.cost);
            if floor.is_some_and(|f| f > best_cost) {
                self.combos[c].1 = Combo::Done;
                self.discarded += 1;
            }
        }
    }

    /// The cheapest feasible candidate evaluated (ties: the lowest candidate index).
    pub fn best(&self) -> Option<(usize, &Evaluation)> {
        self.evaluated
            .iter()
            .filter(|(_, _, e)| e.feasible())
            .min_by(|a, b| a.2.cost.total_cmp(&b.2.cost).then(a.0.cmp(&b.0)))
            .map(|(c, _, e)| (*c, e))
    }
}

#[cfg(test)]
mod tests;

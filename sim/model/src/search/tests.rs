use super::*;
use crate::objectives::Judged;

const SCENARIO_WITH_SEARCH: &str = r#"
[search]
seeds = 3
[[search.knobs]]
name = "type"
paths = ["clusters[0].instance_type"]
values = ["a", "b", "c"]
[[search.knobs]]
name = "count"
paths = ["clusters[0].count"]
range = { from = 1, to = 20, step = 1 }
monotone = true
"#;

fn judged(met: bool) -> Judged {
    Judged {
        mean: Some(0.0),
        bound: Some(0.0),
        met,
    }
}

/// A synthetic world: type k needs `need[k]` instances and costs `price[k]` each.
fn evaluate(search: &Search, cand: usize) -> Evaluation {
    let need = [7usize, 12, 25];
    let price = [3.0, 1.5, 0.5];
    let c = search.coordinates(cand);
    let count = c[1] + 1;
    Evaluation {
        cost: price[c[0]] * count as f64,
        objectives: vec![judged(count >= need[c[0]])],
    }
}

fn run(search: &Search) -> Planner {
    let mut p = Planner::new(search);
    loop {
        let round = p.next_round(search);
        if round.is_empty() {
            return p;
        }
        let results = round.iter().map(|&c| (c, evaluate(search, c))).collect();
        p.record(search, results);
    }
}

#[test]
fn reads_the_search_table() {
    let s = read("s.toml", SCENARIO_WITH_SEARCH).unwrap().unwrap();
    assert_eq!((s.seeds, s.knobs.len(), s.candidates()), (3, 2, 60));
    assert!(s.knobs[1].monotone && !s.knobs[0].monotone);
    assert_eq!(s.labels(21), vec!["b".to_string(), "2".to_string()]);
    assert_eq!(s.variant(21).overrides.len(), 2);
    assert!(read("s.toml", "name = \"x\"\n").unwrap().is_none());
    let opts = "[search]\n[[search.knobs]]\nname = \"platform\"\noptions = [{ name = \"ec2\" }, { name = \"fargate\", set = { \"clusters[0].count\" = 0, \"services[0].launch_type\" = \"FARGATE\" } }]\n";
    let s = read("s.toml", opts).unwrap().unwrap();
    assert_eq!(s.labels(1), vec!["fargate".to_string()]);
    assert_eq!(s.variant(1).overrides.len(), 2);
    assert!(s.variant(0).overrides.is_empty());
}

#[test]
fn reports_bad_search_tables() {
    let bad = "[search]\nseed = 3\n[[search.knobs]]\nname = \"a\"\npaths = [\"x\"]\nvalues = [1]\nmonotone = true\n[[search.knobs]]\nname = \"a\"\npaths = [\"y\"]\nvalues = [1]\nmonotone = true\n";
    let e = read("s.toml", bad).unwrap_err();
    let text: Vec<String> = e.iter().map(|d| d.to_string()).collect();
    let all = text.join("\n");
    assert!(
        all.contains("unknown field \"seed\" (did you mean \"seeds\"?)"),
        "{all}"
    );
    assert!(all.contains("two knobs are named \"a\""), "{all}");
    assert!(
        all.contains("more than one knob has monotone = true"),
        "{all}"
    );
}

/// Bisection with early discard finds what trying every candidate finds, with far fewer runs.
#[test]
fn bisection_agrees_with_brute_force() {
    let s = read("s.toml", SCENARIO_WITH_SEARCH).unwrap().unwrap();
    let p = run(&s);
    let brute = (0..s.candidates())
        .map(|c| (c, evaluate(&s, c)))
        .filter(|(_, e)| e.feasible())
        .min_by(|a, b| a.1.cost.total_cmp(&b.1.cost).then(a.0.cmp(&b.0)))
        .unwrap();
    let (best, ev) = p.best().unwrap();
    assert_eq!(best, brute.0);
    assert_eq!(s.labels(best), vec!["b".to_string(), "12".to_string()]);
    assert_eq!(ev.cost, 18.0);
    assert!(p.evaluated.len() < 20, "{} runs", p.evaluated.len());
}

/// No feasible candidate: the search ends with none.
#[test]
fn no_feasible_candidate() {
    let src = SCENARIO_WITH_SEARCH.replace("to = 20", "to = 5");
    let s = read("s.toml", &src).unwrap().unwrap();
    let p = run(&s);
    assert!(p.best().is_none());
    assert!(p.evaluated.len() <= 6);
}

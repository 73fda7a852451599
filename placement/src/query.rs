//! The ECS cluster query language (ECS-DG `cluster-query-language.html`).
//!
//! An expression is `subject operator [argument]`, combined with `&&`/`and`, `||`/`or`,
//! `!`/`not` and parentheses. `and` binds tighter than `or`; `not` binds tightest.
//!
//! | Subjects | `agentConnected`, `agentVersion`, `attribute:NAME`, `ec2InstanceId`, `registeredAt`, `runningTasksCount`, `task:group` |
//! |---|---|
//! | Operators | `==` `equals`, `!=` `not_equals`, `>` `greater_than`, `>=` `greater_than_equal`, `<` `less_than`, `<=` `less_than_equal`, `exists`, `!exists` `not_exists`, `in`, `!in` `not_in`, `=~` `matches`, `!~` `not_matches` |
//!
//! Conventions where the guide is silent (ecsim's choices):
//! * Values are bare words (`us-east-1a`, `t2.*`, `service:web`) or quoted with `"` or `'`.
//! * `=~` is a whole-value match, as Java's `String.matches` is; the regex dialect is Rust's
//!   `regex` crate, which agrees with Java for the classes, repetitions and alternations used in
//!   practice (no look-around, no back-references).
//! * `>`, `<`, `>=`, `<=` compare numerically when both sides are numbers, component by component
//!   when both are dotted versions (`1.70.2`), and as strings otherwise.
//! * `registeredAt` is the simulated time of registration in milliseconds; the argument may be a
//!   number of milliseconds or a duration with a unit (`90s`, `15m`, `2h`).
//! * An instance without the attribute: `exists`, `==`, `in`, `=~` and the orderings are false;
//!   `!exists`, `!=`, `!in` and `!~` are true.
//! * `task:group` is the set of groups with a task on the instance: `==`, `in`, `=~` and the
//!   orderings hold if any group satisfies them; `!=`, `!in` and `!~` hold if none is equal, in
//!   the list or matching; `exists` holds if the instance runs any task.

use std::cmp::Ordering;
use std::fmt;

use regex::Regex;

/// What an expression may ask about an instance.
pub trait Facts {
    /// The value of a built-in or custom attribute.
    fn attribute(&self, name: &str) -> Option<&str>;
    /// `ec2InstanceId`.
    fn ec2_instance_id(&self) -> &str;
    /// `agentConnected`.
    fn agent_connected(&self) -> bool;
    /// `agentVersion`.
    fn agent_version(&self) -> &str;
    /// `registeredAt`, simulated milliseconds.
    fn registered_at_ms(&self) -> u64;
    /// `runningTasksCount`.
    fn running_tasks_count(&self) -> u32;
    /// Calls `f` with the name of each group that has a task on the instance, until it returns true.
    fn any_group(&self, f: &mut dyn FnMut(&str) -> bool) -> bool;
}

/// A subject of the query language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// `agentConnected`
    AgentConnected,
    /// `agentVersion`
    AgentVersion,
    /// `attribute:NAME`
    Attribute(String),
    /// `ec2InstanceId`
    Ec2InstanceId,
    /// `registeredAt`
    RegisteredAt,
    /// `runningTasksCount`
    RunningTasksCount,
    /// `task:group`
    TaskGroup,
}

/// An operator of the query language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `exists`
    Exists,
    /// `!exists`
    NotExists,
    /// `in`
    In,
    /// `!in`
    NotIn,
    /// `=~`
    Matches,
    /// `!~`
    NotMatches,
}

/// A parsed expression.
#[derive(Debug, Clone)]
pub enum Expr {
    /// `subject op argument`
    Cmp {
        /// What is asked about.
        subject: Subject,
        /// How it is compared.
        op: Op,
        /// The right-hand side (empty for `exists`/`!exists`; a list for `in`).
        values: Vec<String>,
        /// The compiled whole-value regex for `=~`/`!~`.
        regex: Option<Regex>,
    },
    /// Both hold.
    And(Box<Expr>, Box<Expr>),
    /// Either holds.
    Or(Box<Expr>, Box<Expr>),
    /// It does not hold.
    Not(Box<Expr>),
}

/// A syntax error in an expression, with the byte offset where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    /// Byte offset into the expression.
    pub offset: usize,
    /// What was wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at character {}: {}", self.offset + 1, self.message)
    }
}

impl std::error::Error for QueryError {}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Bang,
    Sym(&'static str),
    Word(String),
    Quoted(String),
}

const SUBJECTS: &str = "agentConnected, agentVersion, attribute:NAME, ec2InstanceId, registeredAt, runningTasksCount, task:group";
const OPERATORS: &str = "==, !=, >, >=, <, <=, exists, !exists, in, !in, =~, !~ (or equals, not_equals, greater_than, greater_than_equal, less_than, less_than_equal, not_exists, not_in, matches, not_matches)";

fn tokenize(s: &str) -> Result<Vec<(usize, Tok)>, QueryError> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let two = if i + 1 < bytes.len() {
            &s[i..i + 2]
        } else {
            ""
        };
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'(' => out.push((i, Tok::LParen)),
            b')' => out.push((i, Tok::RParen)),
            b'[' => out.push((i, Tok::LBracket)),
            b']' => out.push((i, Tok::RBracket)),
            b',' => out.push((i, Tok::Comma)),
            b'"' | b'\'' => {
                let end = s[i + 1..].find(c as char).ok_or(QueryError {
                    offset: i,
                    message: "unterminated quoted value".into(),
                })?;
                out.push((i, Tok::Quoted(s[i + 1..i + 1 + end].to_string())));
                i += end + 2;
                continue;
            }
            _ => {
                let sym = ["==", "!=", ">=", "<=", "=~", "!~", "&&", "||"]
                    .into_iter()
                    .find(|&t| t == two);
                if let Some(sym) = sym {
                    out.push((i, Tok::Sym(sym)));
                    i += 2;
                    continue;
                }
                match c {
                    b'!' => out.push((i, Tok::Bang)),
                    b'>' => out.push((i, Tok::Sym(">"))),
                    b'<' => out.push((i, Tok::Sym("<"))),
                    b'=' | b'&' | b'|' | b'~' => {
                        return Err(QueryError {
                            offset: i,
                            message: format!(
                                "unexpected '{}'; operators are {OPERATORS}",
                                c as char
                            ),
                        });
                    }
                    _ => {
                        while i < bytes.len()
                            && !matches!(
                                bytes[i],
                                b' ' | b'\t'
                                    | b'\n'
                                    | b'\r'
                                    | b'('
                                    | b')'
                                    | b'['
                                    | b']'
                                    | b','
                                    | b'!'
                                    | b'='
                                    | b'<'
                                    | b'>'
                                    | b'&'
                                    | b'|'
                                    | b'"'
                                    | b'\''
                            )
                        {
                            i += 1;
                        }
                        out.push((start, Tok::Word(s[start..i].to_string())));
                        continue;
                    }
                }
            }
        }
        i += 1;
    }
    Ok(out)
}

struct Parser<'a> {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    src: &'a str,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }
    fn offset(&self) -> usize {
        self.toks.get(self.pos).map_or(self.src.len(), |(o, _)| *o)
    }
    fn err<T>(&self, message: String) -> Result<T, QueryError> {
        Err(QueryError {
            offset: self.offset(),
            message,
        })
    }
    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x == w)
    }
    fn or(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.and()?;
        while matches!(self.peek(), Some(Tok::Sym("||"))) || self.is_word("or") {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }
    fn and(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.unary()?;
        while matches!(self.peek(), Some(Tok::Sym("&&"))) || self.is_word("and") {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }
    fn unary(&mut self) -> Result<Expr, QueryError> {
        match self.peek() {
            Some(Tok::Bang) => {
                self.pos += 1;
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Some(Tok::Word(w)) if w == "not" => {
                self.pos += 1;
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Some(Tok::LParen) => {
                self.pos += 1;
                let e = self.or()?;
                if self.peek() != Some(&Tok::RParen) {
                    return self.err("expected ')' to close '('".into());
                }
                self.pos += 1;
                Ok(e)
            }
            _ => self.comparison(),
        }
    }
    fn subject(&mut self) -> Result<Subject, QueryError> {
        let subject = match self.peek() {
            Some(Tok::Word(w)) => match w.as_str() {
                "agentConnected" => Subject::AgentConnected,
                "agentVersion" => Subject::AgentVersion,
                "ec2InstanceId" => Subject::Ec2InstanceId,
                "registeredAt" => Subject::RegisteredAt,
                "runningTasksCount" => Subject::RunningTasksCount,
                "task:group" => Subject::TaskGroup,
                w if w.starts_with("attribute:") && w.len() > "attribute:".len() => {
                    Subject::Attribute(w["attribute:".len()..].to_string())
                }
                other => {
                    return self.err(format!(
                        "unknown subject '{other}'; subjects are {SUBJECTS}"
                    ));
                }
            },
            Some(t) => {
                return self.err(format!(
                    "expected a subject ({SUBJECTS}), found {}",
                    describe(t)
                ));
            }
            None => {
                return self.err(format!(
                    "expression ends where a subject ({SUBJECTS}) was expected"
                ));
            }
        };
        self.pos += 1;
        Ok(subject)
    }
    fn op(&mut self) -> Result<Op, QueryError> {
        let op = match self.peek() {
            Some(Tok::Sym(s)) => match *s {
                "==" => Op::Eq,
                "!=" => Op::Ne,
                ">" => Op::Gt,
                ">=" => Op::Ge,
                "<" => Op::Lt,
                "<=" => Op::Le,
                "=~" => Op::Matches,
                "!~" => Op::NotMatches,
                _ => return self.err(format!("expected an operator ({OPERATORS})")),
            },
            Some(Tok::Bang) => {
                let next = self.toks.get(self.pos + 1).map(|(_, t)| t);
                let op = match next {
                    Some(Tok::Word(w)) if w == "exists" => Op::NotExists,
                    Some(Tok::Word(w)) if w == "in" => Op::NotIn,
                    _ => return self.err(format!("expected an operator ({OPERATORS})")),
                };
                self.pos += 1;
                op
            }
            Some(Tok::Word(w)) => match w.as_str() {
                "equals" => Op::Eq,
                "not_equals" => Op::Ne,
                "greater_than" => Op::Gt,
                "greater_than_equal" => Op::Ge,
                "less_than" => Op::Lt,
                "less_than_equal" => Op::Le,
                "exists" => Op::Exists,
                "not_exists" => Op::NotExists,
                "in" => Op::In,
                "not_in" => Op::NotIn,
                "matches" => Op::Matches,
                "not_matches" => Op::NotMatches,
                other => {
                    return self.err(format!(
                        "unknown operator '{other}'; operators are {OPERATORS}"
                    ));
                }
            },
            Some(t) => {
                return self.err(format!(
                    "expected an operator ({OPERATORS}), found {}",
                    describe(t)
                ));
            }
            None => {
                return self.err(format!(
                    "expression ends where an operator ({OPERATORS}) was expected"
                ));
            }
        };
        self.pos += 1;
        Ok(op)
    }
    fn value(&mut self) -> Result<String, QueryError> {
        match self.peek() {
            Some(Tok::Word(w)) | Some(Tok::Quoted(w)) => {
                let w = w.clone();
                self.pos += 1;
                Ok(w)
            }
            Some(t) => self.err(format!("expected a value, found {}", describe(t))),
            None => self.err("expression ends where a value was expected".into()),
        }
    }
    fn comparison(&mut self) -> Result<Expr, QueryError> {
        let subject = self.subject()?;
        let op = self.op()?;
        let mut values = Vec::new();
        match op {
            Op::Exists | Op::NotExists => {}
            Op::In | Op::NotIn => {
                if self.peek() != Some(&Tok::LBracket) {
                    return self.err("'in' takes a list: [value, value, ...]".into());
                }
                self.pos += 1;
                loop {
                    values.push(self.value()?);
                    match self.peek() {
                        Some(Tok::Comma) => self.pos += 1,
                        Some(Tok::RBracket) => {
                            self.pos += 1;
                            break;
                        }
                        _ => return self.err("expected ',' or ']' in the list".into()),
                    }
                }
            }
            _ => values.push(self.value()?),
        }
        let regex = if matches!(op, Op::Matches | Op::NotMatches) {
            let at = self.toks[self.pos - 1].0;
            Some(
                Regex::new(&format!("^(?:{})$", values[0])).map_err(|e| QueryError {
                    offset: at,
                    message: format!(
                        "invalid regular expression '{}': {}",
                        values[0],
                        first_line(&e.to_string())
                    ),
                })?,
            )
        } else {
            None
        };
        if let (Subject::RegisteredAt, Some(v)) = (&subject, values.first())
            && !matches!(op, Op::Matches | Op::NotMatches)
            && parse_ms(v).is_none()
        {
            return Err(QueryError {
                offset: self.toks[self.pos - 1].0,
                message: format!(
                    "registeredAt compares with milliseconds or a duration such as 90s, 15m, 2h; got '{v}'"
                ),
            });
        }
        Ok(Expr::Cmp {
            subject,
            op,
            values,
            regex,
        })
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or(s)
        .trim()
        .to_string()
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::LBracket => "'['".into(),
        Tok::RBracket => "']'".into(),
        Tok::Comma => "','".into(),
        Tok::Bang => "'!'".into(),
        Tok::Sym(s) => format!("'{s}'"),
        Tok::Word(w) | Tok::Quoted(w) => format!("'{w}'"),
    }
}

/// Milliseconds from a number or a duration with unit ms, s, m, h or d.
fn parse_ms(v: &str) -> Option<u64> {
    if let Ok(n) = v.parse::<u64>() {
        return Some(n);
    }
    let split = v.find(|c: char| !c.is_ascii_digit())?;
    let (num, unit) = v.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(mult)
}

impl Expr {
    /// Parse an expression.
    pub fn parse(src: &str) -> Result<Expr, QueryError> {
        let toks = tokenize(src)?;
        if toks.is_empty() {
            return Err(QueryError {
                offset: 0,
                message: "empty expression".into(),
            });
        }
        let mut p = Parser { toks, pos: 0, src };
        let e = p.or()?;
        if let Some(t) = p.peek() {
            let t = describe(t);
            return p.err(format!(
                "unexpected {t} after a complete expression; combine with && or ||"
            ));
        }
        Ok(e)
    }

    /// Whether the expression holds for an instance.
    pub fn eval(&self, f: &dyn Facts) -> bool {
        match self {
            Expr::And(a, b) => a.eval(f) && b.eval(f),
            Expr::Or(a, b) => a.eval(f) || b.eval(f),
            Expr::Not(a) => !a.eval(f),
            Expr::Cmp {
                subject,
                op,
                values,
                regex,
            } => {
                let cmp = |v: &str| compare(subject, *op, v, values, regex.as_ref());
                match subject {
                    Subject::TaskGroup => {
                        let negative =
                            matches!(op, Op::Ne | Op::NotIn | Op::NotMatches | Op::NotExists);
                        let positive = match op {
                            Op::Ne => Op::Eq,
                            Op::NotIn => Op::In,
                            Op::NotMatches => Op::Matches,
                            Op::NotExists => Op::Exists,
                            other => *other,
                        };
                        let any = f.any_group(&mut |g| {
                            compare(subject, positive, g, values, regex.as_ref())
                        });
                        any != negative
                    }
                    Subject::Attribute(name) => match f.attribute(name) {
                        Some(v) => cmp(v),
                        None => matches!(op, Op::NotExists | Op::Ne | Op::NotIn | Op::NotMatches),
                    },
                    Subject::AgentConnected => {
                        cmp(if f.agent_connected() { "true" } else { "false" })
                    }
                    Subject::AgentVersion => cmp(f.agent_version()),
                    Subject::Ec2InstanceId => cmp(f.ec2_instance_id()),
                    Subject::RegisteredAt => cmp(&f.registered_at_ms().to_string()),
                    Subject::RunningTasksCount => cmp(&f.running_tasks_count().to_string()),
                }
            }
        }
    }
}

fn compare(
    subject: &Subject,
    op: Op,
    actual: &str,
    values: &[String],
    regex: Option<&Regex>,
) -> bool {
    let order = |v: &str| {
        if *subject == Subject::RegisteredAt {
            let a: u64 = actual.parse().unwrap_or(0);
            return parse_ms(v).map(|b| a.cmp(&b));
        }
        Some(order_values(actual, v))
    };
    match op {
        Op::Exists => true,
        Op::NotExists => false,
        Op::Eq => order(&values[0]) == Some(Ordering::Equal) || actual == values[0],
        Op::Ne => !(order(&values[0]) == Some(Ordering::Equal) || actual == values[0]),
        Op::In => values.iter().any(|v| actual == v),
        Op::NotIn => !values.iter().any(|v| actual == v),
        Op::Matches => regex.is_some_and(|r| r.is_match(actual)),
        Op::NotMatches => !regex.is_some_and(|r| r.is_match(actual)),
        Op::Gt => order(&values[0]) == Some(Ordering::Greater),
        Op::Ge => matches!(order(&values[0]), Some(Ordering::Greater | Ordering::Equal)),
        Op::Lt => order(&values[0]) == Some(Ordering::Less),
        Op::Le => matches!(order(&values[0]), Some(Ordering::Less | Ordering::Equal)),
    }
}

fn order_values(a: &str, b: &str) -> Ordering {
    if let (Ok(x), Ok(y)) = (a.parse::<f64>(), b.parse::<f64>()) {
        return x.partial_cmp(&y).unwrap_or(Ordering::Equal);
    }
    let version = |s: &str| -> Option<Vec<u64>> {
        s.trim_start_matches('v')
            .split('.')
            .map(|p| p.parse().ok())
            .collect()
    };
    if let (Some(x), Some(y)) = (version(a), version(b)) {
        return x.cmp(&y);
    }
    a.cmp(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct I {
        attrs: Vec<(&'static str, &'static str)>,
        groups: Vec<&'static str>,
        running: u32,
    }
    impl Facts for I {
        fn attribute(&self, name: &str) -> Option<&str> {
            self.attrs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
        }
        fn ec2_instance_id(&self) -> &str {
            "i-0abc"
        }
        fn agent_connected(&self) -> bool {
            true
        }
        fn agent_version(&self) -> &str {
            "1.70.2"
        }
        fn registered_at_ms(&self) -> u64 {
            600_000
        }
        fn running_tasks_count(&self) -> u32 {
            self.running
        }
        fn any_group(&self, f: &mut dyn FnMut(&str) -> bool) -> bool {
            self.groups.iter().any(|g| f(g))
        }
    }

    fn inst() -> I {
        I {
            attrs: vec![
                ("ecs.instance-type", "t2.micro"),
                ("ecs.availability-zone", "us-east-1a"),
            ],
            groups: vec!["service:production"],
            running: 1,
        }
    }

    fn holds(e: &str) -> bool {
        Expr::parse(e)
            .unwrap_or_else(|err| panic!("{e}: {err}"))
            .eval(&inst())
    }

    /// Every example of ECS-DG `cluster-query-language.html` parses and means what the guide says.
    #[test]
    fn guide_examples() {
        assert!(holds("attribute:ecs.instance-type =~ t2.*"));
        assert!(!holds("attribute:ecs.instance-type =~ g2.*"));
        assert!(holds(
            "attribute:ecs.availability-zone in [us-east-1a, us-east-1b]"
        ));
        assert!(!holds("attribute:ecs.availability-zone in [us-east-1c]"));
        assert!(holds("task:group == service:production"));
        assert!(!holds("not(task:group == service:production)"));
        assert!(holds("not(task:group == database)"));
        assert!(holds("runningTasksCount == 1"));
        assert!(holds(
            "attribute:ecs.instance-type =~ t2.* and attribute:ecs.availability-zone == us-east-1a"
        ));
        assert!(holds(
            "attribute:ecs.instance-type == t2.small || attribute:ecs.instance-type == t2.micro"
        ));
        assert!(holds("ec2InstanceId in ['i-0abc', 'i-0def']"));
        assert!(holds("agentConnected == true && agentVersion >= 1.9.0"));
        assert!(holds("registeredAt < 15m"));
        assert!(holds("attribute:custom !exists"));
        assert!(holds("attribute:custom not_exists"));
        assert!(holds("attribute:ecs.availability-zone exists"));
    }

    /// Word and symbol forms of every operator agree (ECS-DG `cluster-query-language.html`).
    #[test]
    fn operator_synonyms() {
        let pairs = [
            ("runningTasksCount == 1", "runningTasksCount equals 1"),
            ("runningTasksCount != 2", "runningTasksCount not_equals 2"),
            ("runningTasksCount > 0", "runningTasksCount greater_than 0"),
            (
                "runningTasksCount >= 1",
                "runningTasksCount greater_than_equal 1",
            ),
            ("runningTasksCount < 2", "runningTasksCount less_than 2"),
            (
                "runningTasksCount <= 1",
                "runningTasksCount less_than_equal 1",
            ),
            (
                "runningTasksCount !in [3, 4]",
                "runningTasksCount not_in [3, 4]",
            ),
            (
                "attribute:ecs.instance-type !~ m5.*",
                "attribute:ecs.instance-type not_matches m5.*",
            ),
            (
                "attribute:ecs.instance-type =~ t2.*",
                "attribute:ecs.instance-type matches t2.*",
            ),
        ];
        for (a, b) in pairs {
            assert!(holds(a), "{a}");
            assert!(holds(b), "{b}");
        }
    }

    #[test]
    fn precedence_and_parentheses() {
        // and binds tighter than or: false || (true && true)
        assert!(holds(
            "runningTasksCount == 5 || runningTasksCount == 1 && task:group exists"
        ));
        // parentheses change it: (false || true) && false
        assert!(!holds(
            "(runningTasksCount == 5 || runningTasksCount == 1) && task:group !exists"
        ));
        assert!(holds("!(runningTasksCount > 3)"));
    }

    #[test]
    fn malformed_expressions_are_reported_with_position() {
        for (src, needle) in [
            ("", "empty"),
            ("attribute:x ==", "value"),
            ("foo == bar", "unknown subject 'foo'"),
            ("runningTasksCount ~= 1", "unexpected '~'"),
            ("runningTasksCount between 1", "unknown operator 'between'"),
            ("(runningTasksCount == 1", "')'"),
            ("attribute:x in a", "list"),
            ("attribute:x =~ '('", "invalid regular expression"),
            (
                "runningTasksCount == 1 runningTasksCount == 2",
                "combine with",
            ),
            ("registeredAt > yesterday", "registeredAt"),
        ] {
            let err = Expr::parse(src).expect_err(src);
            assert!(err.message.contains(needle), "{src}: {err}");
        }
    }
}

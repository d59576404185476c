//! The gradient fuzzer: seeded random programs over every differentiable op, each one's
//! gradients checked three ways: against float64 central finite differences of the same
//! program, float32 against float64, and the default mode (its fast paths) against the
//! reference mode. A failure prints the program as a Python script and the command that runs
//! it again.
//!
//! `cargo test --test gradfuzz` runs the campaign CI runs. Options (after `--`):
//!   --programs N     how many programs (default 3000)
//!   --seed S         the campaign's seed (default 1)
//!   --program K      only program K of the campaign
//!   --emit FILE      write the programs as JSON lines for the Python bindings' fuzzer
//!                    instead of checking them
//! A deep campaign: `cargo test --release --test gradfuzz -- --programs 100000 --seed 7`.

mod arrange;
mod generate;
mod program;
mod run;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

use ad::DType;

use generate::{generate, kind_of, Rng};
use program::*;
use run::Outcome;

struct Options {
    programs: u64,
    seed: u64,
    only: Option<u64>,
    emit: Option<String>,
}

/// Arguments libtest takes, which `cargo test` may pass on to every test binary: accepted,
/// and meaningless here.
const LIBTEST_FLAGS: &[&str] = &["--nocapture", "--quiet", "-q", "--show-output", "--include-ignored", "--ignored", "--exact"];

/// The options, or `None` when a test-name filter excludes this campaign.
fn options() -> Result<Option<Options>, String> {
    let mut o = Options { programs: 3000, seed: 1, only: None, emit: None };
    let mut args = std::env::args().skip(1);
    let mut filtered_out = false;
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        let number = |s: String, name: &str| s.parse::<u64>().map_err(|_| format!("{name}: {s:?} is not a number"));
        match a.as_str() {
            "--programs" => o.programs = number(value("--programs")?, "--programs")?,
            "--seed" => o.seed = number(value("--seed")?, "--seed")?,
            "--program" => o.only = Some(number(value("--program")?, "--program")?),
            "--emit" => o.emit = Some(value("--emit")?),
            f if LIBTEST_FLAGS.contains(&f) || f.starts_with("--test-threads") || f.starts_with("--color") || f.starts_with("--format") => {}
            f if f.starts_with('-') => return Err(format!("unknown option {f:?}")),
            filter => filtered_out |= !"gradfuzz".contains(filter),
        }
    }
    Ok((!filtered_out).then_some(o))
}

fn main() {
    let o = match options() {
        Ok(Some(o)) => o,
        Ok(None) => return,
        Err(e) => {
            eprintln!("gradfuzz: {e}");
            std::process::exit(2);
        }
    };
    if let Err(missing) = covers_the_table() {
        eprintln!("gradfuzz: the fuzzer draws no {missing:?}: add them to Unary (tests/gradfuzz/program.rs) with their domains");
        std::process::exit(1);
    }
    if let Err(e) = detects_jumps() {
        eprintln!("gradfuzz: {e}");
        std::process::exit(1);
    }
    if let Some(path) = &o.emit {
        // First the Python definitions the programs use, then one program per line.
        let mut out = format!("{{\"prelude\":{}}}\n", json_str(PYTHON_PRELUDE));
        // Large programs are left out: their arrays would make megabytes of JSON, and the
        // fast paths they reach (split loops) are the engine's, checked here.
        for number in 0..o.programs {
            let p = generate(o.seed, number);
            if !p.large {
                out.push_str(&to_json(&p));
                out.push('\n');
            }
        }
        std::fs::write(path, out).unwrap_or_else(|e| panic!("cannot write {path}: {e}"));
        return;
    }
    let numbers: Vec<u64> = match o.only {
        Some(k) => vec![k],
        None => (0..o.programs).collect(),
    };
    let start = Instant::now();
    let mut tally = Tally::default();
    let mut failures = 0;
    // Finite differences left out for crossing a multinomial jump, and the programs they are in.
    let (mut jumps, mut jumped_programs) = (0, 0);
    for &number in &numbers {
        let p = generate(o.seed, number);
        tally.add(&p);
        let began = Instant::now();
        let checked = check(&p);
        *tally.seconds.entry(if p.large { "large" } else { "small" }).or_default() += began.elapsed().as_secs_f64();
        match checked {
            Ok(0) => {}
            Ok(n) => {
                jumps += n;
                jumped_programs += 1;
            }
            Err(e) => {
                failures += 1;
                eprintln!(
                    "\ngradfuzz: program {number} of seed {} fails ({:.1} s into the campaign): {e}\nrun it again: cargo test --test gradfuzz -- --seed {} --program {number}\nas Python:\n{}",
                    o.seed,
                    start.elapsed().as_secs_f64(),
                    o.seed,
                    p.python_script()
                );
            }
        }
    }
    println!("gradfuzz: seed {}, {} programs in {:.1} s, {} mismatches", o.seed, numbers.len(), start.elapsed().as_secs_f64(), failures);
    println!("  finite differences across a multinomial jump, left out: {jumps} in {jumped_programs} programs");
    print!("{}", tally.report());
    // A campaign the size of CI's draws every kind of op often: a weight, or a generator that
    // rejects most of what it draws, would otherwise leave an op unchecked unnoticed.
    let rare: Vec<String> = if o.only.is_none() && numbers.len() >= 3000 {
        let least = numbers.len() as u64 / 40;
        generate::KINDS
            .iter()
            .map(|&(k, _)| (k, tally.counts.get(&format!("op {k:?}")).copied().unwrap_or(0)))
            .filter(|&(_, n)| n < least)
            .map(|(k, n)| format!("{k:?} {n} times (fewer than {least})"))
            .collect()
    } else {
        Vec::new()
    };
    if !rare.is_empty() {
        eprintln!("gradfuzz: the campaign drew {}", rare.join(", "));
    }
    if failures > 0 || !rare.is_empty() {
        std::process::exit(1);
    }
}

/// The rows of the element-wise table (`src/ops/elementwise.rs`) the fuzzer does not draw;
/// the tests for NaN and infinities are left out (their gradient is zero everywhere, and
/// tests/gradcheck.rs checks it).
fn covers_the_table() -> Result<(), Vec<String>> {
    let table = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/ops/elementwise.rs")).expect("the table");
    let drawn: Vec<String> = UNARIES.iter().map(|&u| program::unary_name(u).to_string()).collect();
    let missing: Vec<String> = table
        .lines()
        .filter(|l| !l.trim_start().starts_with("//")).filter_map(|l| l.trim_start().split_once("(x) = ").map(|(name, _)| name.to_string()))
        .filter(|name| !drawn.contains(name) && !["isnan", "isinf", "isfinite"].contains(&name.as_str()))
        .collect();
    if missing.is_empty() { Ok(()) } else { Err(missing) }
}

/// Whether the finite differences see a draw move to another category: a program whose one
/// draw sits on the boundary between its row's two categories must have both of its
/// differences left out as jumps (taken as slopes they would be about 5e5).
fn detects_jumps() -> Result<(), String> {
    let seed = 5;
    let u = ad::array::random::Rng::seeded(seed).next_f64();
    // softmax([x, 0])[0] = u: the first category's running sum is the draw's uniform.
    let x = (u / (1.0 - u)).ln();
    let p = Program {
        seed: 0,
        number: 0,
        defs: vec![
            Def::Input(Input { kind: InputKind::Variable, shape: vec![2], values: vec![x, 0.0] }),
            Def::Op(Op::Softmax(0, -1)),
            Def::Op(Op::Multinomial { probs: 1, shape: vec![1], seed }),
        ],
        shapes: vec![vec![2], vec![2], vec![1]],
        heads: vec![2],
        head_grads: vec![None],
        backward: Backward::Plain,
        directions: vec![vec![1.0, 1.0]],
        threads: 1,
        large: false,
    };
    let drawn = differentiate(&p, DType::F64, false, &run::input_values(&p))?.draws;
    let fd = run::finite_differences(&p, &[vec![0, 1]], &drawn).map_err(|e| format!("finite differences failed: {e}"))?;
    if fd.jumped != [vec![true, true]] {
        return Err(format!("a draw on a category boundary: jumps {:?} (differences {:?}), expected both", fd.jumped, fd.values));
    }
    Ok(())
}

// ---- checks ------------------------------------------------------------------------------

/// Float32 against float64.
const F32_TOL: (f64, f64) = (3e-3, 1e-5);
/// The default mode against the reference mode, in float64 and in float32.
const SAME_F64_TOL: (f64, f64) = (1e-9, 1e-12);
const SAME_F32_TOL: (f64, f64) = (5e-4, 1e-6);

/// Checks a program; `Ok` with how many finite differences were left out because they
/// crossed a multinomial op's jump.
fn check(p: &Program) -> Result<usize, String> {
    let values = run::input_values(p);
    let fast64 = differentiate(p, DType::F64, false, &values)?;
    let fast32 = differentiate(p, DType::F32, false, &values)?;
    let ref64 = differentiate(p, DType::F64, true, &values)?;
    let ref32 = differentiate(p, DType::F32, true, &values)?;
    // The same seed draws the same categories in every mode and dtype: the generator keeps
    // each draw clear of its row's category boundaries by far more than float32's rounding.
    for (what, o) in [("float64 in the reference mode", &ref64), ("float32", &fast32), ("float32 in the reference mode", &ref32)] {
        if o.draws != fast64.draws {
            return Err(format!("multinomial draws: {what} draws {:?}, float64 {:?}", o.draws, fast64.draws));
        }
    }
    let mut rng = Rng::new(p.seed ^ 0x5EED, p.number);
    let probes = run::probed(p, &mut |n| rng.upto(0, n - 1));
    let run::Differences { values: fd, jumped } =
        run::finite_differences(p, &probes, &fast64.draws).map_err(|e| format!("finite differences failed: {e}"))?;
    let scale = run::term_scale(p, &fast64.heads);
    // The rounding of a difference quotient: a sum of n terms of magnitude `scale` is off by
    // up to about n·ε·scale, divided by the step (2h); n the largest array of the program.
    let longest = p.shapes.iter().map(|s| s.iter().product::<usize>()).max().unwrap_or(1) as f64;
    // Large programs combine the quotients of h and h/2 as (4·D(h/2) − D(h)) / 3, whose
    // rounding is up to (4·2 + 1) / 3 = 3 times one quotient's.
    let extrapolated = if p.large { 3.0 } else { 1.0 };
    let fd_noise = extrapolated * f64::EPSILON * longest * scale / run::step(p);
    let fd_rtol = if p.large { 1e-4 } else { 1e-5 };
    let at = |g: &[Vec<f64>]| -> Vec<Vec<f64>> {
        if p.backward == Backward::Second {
            return g.to_vec();
        }
        g.iter().zip(&probes).map(|(g, at)| at.iter().map(|&j| g[j]).collect()).collect()
    };
    // A difference across a jump is left out (and counted); the rest are compared.
    let clear = |g: &[Vec<f64>]| -> Vec<Vec<f64>> {
        g.iter().zip(&jumped).map(|(g, j)| g.iter().zip(j).filter(|(_, &j)| !j).map(|(&x, _)| x).collect()).collect()
    };
    let left_out = jumped.iter().flatten().filter(|&&j| j).count();
    compare("float64 gradient against finite differences", &clear(&at(&fast64.grads)), &clear(&fd), (fd_rtol, 1.0), fd_noise).map_err(|e| {
        let e = if left_out > 0 { format!("{e}\n  ({left_out} elements across a multinomial jump left out)") } else { e };
        if p.large { format!("{e}\n  (the elements compared are {probes:?})") } else { e }
    })?;
    compare("float32 gradient against float64", &fast32.grads, &fast64.grads, F32_TOL, scale)?;
    compare("float32 heads against float64", &fast32.heads, &fast64.heads, F32_TOL, 0.0)?;
    compare("float64 gradient, default against reference mode", &fast64.grads, &ref64.grads, SAME_F64_TOL, scale)?;
    compare("float64 heads, default against reference mode", &fast64.heads, &ref64.heads, SAME_F64_TOL, 0.0)?;
    compare("float32 gradient, default against reference mode", &fast32.grads, &ref32.grads, SAME_F32_TOL, scale)?;
    compare("float32 heads, default against reference mode", &fast32.heads, &ref32.heads, SAME_F32_TOL, 0.0)?;
    compare("float64 descent step, default against reference mode", &fast64.stepped, &ref64.stepped, SAME_F64_TOL, scale)?;
    compare("float32 descent step, default against reference mode", &fast32.stepped, &ref32.stepped, SAME_F32_TOL, scale)?;
    Ok(left_out)
}

fn differentiate(p: &Program, dtype: DType, reference: bool, values: &run::Values) -> Result<Outcome, String> {
    ad::reference::set(reference);
    ad::cpu::threads::set_num_threads(p.threads).expect("a valid thread count");
    let r = run::differentiate(p, dtype, values);
    ad::reference::set(false);
    let mode = if reference { "reference" } else { "default" };
    r.map_err(|e| format!("{} in the {mode} mode failed: {e}", dtype.name()))
}

/// Element by element, `got` within `rtol·max(1, |want|∞) + atol·scale` of `want` (each
/// tolerance relative to the largest element, an error of the products that form every
/// element; `scale` for the rounding of the objective's terms).
fn compare(what: &str, got: &[Vec<f64>], want: &[Vec<f64>], (rtol, atol): (f64, f64), scale: f64) -> Result<(), String> {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        if g.len() != w.len() {
            return Err(format!("{what}: array {i} has {} elements, expected {}", g.len(), w.len()));
        }
        let big = w.iter().fold(1.0f64, |m, x| m.max(x.abs()));
        let tol = rtol * big + atol * scale;
        for (j, (a, b)) in g.iter().zip(w).enumerate() {
            let within = (a - b).abs() <= tol; // false for NaN
            if !within {
                return Err(format!("{what}: array {i}, element {j}: {a} against {b} (tolerance {tol:.3e})\n  got  {g:?}\n  want {w:?}"));
            }
        }
    }
    Ok(())
}

// ---- what a campaign covered ---------------------------------------------------------------

#[derive(Default)]
struct Tally {
    counts: BTreeMap<String, u64>,
    seconds: BTreeMap<&'static str, f64>,
}

impl Tally {
    fn bump(&mut self, key: String) {
        *self.counts.entry(key).or_default() += 1;
    }

    fn add(&mut self, p: &Program) {
        self.bump(format!("backward {:?}", p.backward));
        self.bump(format!("heads {}", p.heads.len()));
        self.bump(format!("head gradient {}", if p.head_grads.iter().any(|g| g.is_some()) { "given" } else { "ones" }));
        if p.large {
            self.bump("large arrays".into());
        }
        for (r, def) in p.defs.iter().enumerate() {
            let Def::Op(op) = def else { continue };
            self.bump(format!("op {:?}", kind_of(op)));
            match op {
                Op::Unary(u, _) => self.bump(format!("  unary {u:?}")),
                Op::Scalar(s, _, _) => self.bump(format!("  scalar {s:?}")),
                Op::Binary(b, x, y) => {
                    let (sx, sy, so) = (&p.shapes[*x], &p.shapes[*y], &p.shapes[r]);
                    let form = match (sx == so, sy == so) {
                        (true, true) => "same shapes",
                        (true, false) => "right operand broadcast",
                        (false, true) => "left operand broadcast",
                        (false, false) => "both operands broadcast",
                    };
                    self.bump(format!("  binary {b:?}"));
                    self.bump(format!("  binary with {form}"));
                }
                Op::Reduce(k, a, axes, keepdims) => {
                    let over = if axes.is_empty() || axes.len() == p.shapes[*a].len() { "every axis" } else { "some axes" };
                    self.bump(format!("  reduce {k:?}"));
                    self.bump(format!("  reduce over {over}, keepdims {keepdims}"));
                }
                Op::Dot(a, b, ta, tb) => {
                    self.bump(format!("  dot {}-d·{}-d transpose ({ta}, {tb})", p.shapes[*a].len(), p.shapes[*b].len()))
                }
                Op::BatchDot(_, _, ta, tb) => self.bump(format!("  batch_dot transpose ({ta}, {tb})")),
                Op::BatchNorm { training, .. } => self.bump(format!("  batch_norm training {training}")),
                Op::Dropout { training, .. } => self.bump(format!("  dropout training {training}")),
                Op::Multinomial { shape, .. } => self.bump(format!("  multinomial draw shape {shape:?}")),
                Op::Shape(s) => self.bump(format!("  shape {}", s.name())),
                _ => {}
            }
        }
    }

    fn report(&self) -> String {
        let mut s = String::new();
        for (k, t) in &self.seconds {
            let _ = writeln!(s, "  {k} programs took {t:.1} s");
        }
        for (k, n) in &self.counts {
            let _ = writeln!(s, "  {k:<48} {n}");
        }
        s
    }
}

// ---- the programs for the Python bindings ---------------------------------------------------

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_list<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
    format!("[{}]", items.iter().map(f).collect::<Vec<_>>().join(","))
}

fn json_num(v: &f64) -> String {
    format!("{v:?}")
}

/// One program as a JSON object: its inputs, its body as lines of Python, its heads and how
/// they are differentiated, and the whole script for reports.
fn to_json(p: &Program) -> String {
    let names = p.names();
    let inputs: Vec<String> = p
        .defs
        .iter()
        .enumerate()
        .filter_map(|(r, d)| match d {
            Def::Input(i) => Some(format!(
                "{{\"name\":{},\"variable\":{},\"shape\":{},\"values\":{}}}",
                json_str(&names[r]),
                i.kind == InputKind::Variable,
                json_list(&i.shape, |d| d.to_string()),
                json_list(&i.values, json_num)
            )),
            Def::Op(_) => None,
        })
        .collect();
    let head_grads = json_list(&p.head_grads, |g| match g {
        Some(g) => json_list(g, json_num),
        None => "null".into(),
    });
    let backward = match p.backward {
        Backward::Plain => "plain",
        Backward::AddTwice => "add_twice",
        Backward::RetainTwice => "retain_twice",
        Backward::Grad => "grad",
        Backward::Second => "second",
    };
    // The multinomial ops' draws, by name, to compare across evaluations.
    let draws: Vec<String> = p
        .defs
        .iter()
        .enumerate()
        .filter(|(_, d)| matches!(d, Def::Op(Op::Multinomial { .. })))
        .map(|(r, _)| program::draws_name(&names[r]))
        .collect();
    format!(
        "{{\"seed\":{},\"number\":{},\"inputs\":[{}],\"body\":{},\"draws\":{},\"heads\":{},\"head_shapes\":{},\"head_grads\":{},\"backward\":\"{}\",\"directions\":{},\"threads\":{},\"large\":{},\"script\":{}}}",
        p.seed,
        p.number,
        inputs.join(","),
        json_list(&p.python_body(), |l| json_str(l)),
        json_list(&draws, |d| json_str(d)),
        json_list(&p.heads, |h| json_str(&names[*h])),
        json_list(&p.heads, |h| json_list(&p.shapes[*h], |d| d.to_string())),
        head_grads,
        backward,
        json_list(&p.directions, |d| json_list(d, json_num)),
        p.threads,
        p.large,
        json_str(&p.python_script())
    )
}

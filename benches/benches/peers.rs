//! `peers`: the performance evidence in one run. kyvm against other policy engines on the
//! same rule sets and AdmissionReviews (`src/peers.rs`; `tests/peers.rs` checks that
//! every engine gives kyvm's verdict on every payload), how kyvm's cost grows with loaded
//! policies and matching rules (`src/scaling.rs`), what each engine asks of the heap per
//! review, and the peak RSS of a process evaluating a million reviews. Ends with
//! markdown tables of medians and ratios, and the targets.
//!
//! ```sh
//! cargo bench -p kyvm-benches --bench peers                            # everything, ~10 min
//! KYVM_BENCH_QUICK=1 cargo bench -p kyvm-benches --bench peers         # shorter, ~4 min
//! cargo bench -p kyvm-benches --bench peers -- end_to_end              # a Criterion filter
//! ```
//!
//! Steps:
//! 1. Criterion group `peers`, for each payload and engine (`kyvm`, `regorus`
//!    (interpreter), `regorus_rvm`, `cel`, `floor` (hand-written Rust over typed serde)):
//!    `peers/end_to_end/<engine>/<payload>` (AdmissionReview bytes in, verdict out, the
//!    engine's own JSON → input conversion included) and `peers/eval_only/<engine>/<payload>`
//!    (the evaluation over an input prepared once).
//! 2. Criterion group `scaling`: `scaling/loaded_policies/{end_to_end,eval_only}/N` (N
//!    loaded, the same ten matching the Pod), `scaling/matching_rules/end_to_end/N`, and
//!    `scaling/compile/classic` (every classic policy file of the corpus, from text).
//! 3. Allocations: global-heap requests and bytes per review, per engine and payload,
//!    counted by the counting allocator this binary installs (`kyvm_tests::counting`,
//!    per thread; disarmed while Criterion times).
//! 4. Footprint: for each engine, a process of its own (this binary re-executed with
//!    `KYVM_PEERS_ROLE=footprint`) evaluates the six payloads in turn, a million reviews
//!    for kyvm and the floor and `KYVM_BENCH_PEER_REVIEWS` (100,000) for the slower
//!    peers, and reports VmRSS after loading and VmHWM (peak) at 10% and at the end.
//! 5. The report: the tables, from Criterion's medians of this run
//!    (`target/criterion/**/new/estimates.json`, only files written by this run), printed
//!    and saved in `target/criterion/kyvm-peers-report.md`.
//!
//! Environment: `KYVM_BENCH_QUICK=1` (shorter measurements, 100,000 / 10,000 reviews),
//! `KYVM_BENCH_REVIEWS`, `KYVM_BENCH_PEER_REVIEWS` (footprint reviews). Without cargo's
//! `--bench` (`cargo test --benches`) Criterion runs each benchmark once and the other
//! steps are skipped.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant, SystemTime};

use criterion::{BenchmarkId, Criterion, SamplingMode};
use kyvm_benches::peers::{self, Cel, Kyvm, Payload, RegoInterpreter, RegoRvm, Verdict, PAYLOADS};
use kyvm_benches::{evaluate_review, mib, scaling, thousands, Memory};
use kyvm_engine::{vm, Limits, Program, Request, Scratch};
use kyvm_tests::counting::{self, Allocations, Counting};

#[global_allocator]
static ALLOC: Counting = Counting;

/// Set in the environment of a re-executed footprint process.
const ROLE_ENV: &str = "KYVM_PEERS_ROLE";
const ENGINE_ENV: &str = "KYVM_PEERS_ENGINE";
const REVIEWS_ENV: &str = "KYVM_PEERS_REVIEWS";

/// The engines, in table order.
const ENGINES: [&str; 5] = ["kyvm", "regorus", "regorus_rvm", "cel", "floor"];
/// Loaded-policy counts of the scaling benchmark (the same ten match).
const LOADED: [usize; 4] = [1, 10, 100, 1000];
/// Matching-rule counts of the scaling benchmark.
const MATCHING_RULES: [usize; 3] = [10, 100, 1000];

struct Options {
    quick: bool,
    /// Footprint reviews for kyvm and the floor.
    reviews: u64,
    /// Footprint reviews for regorus, its RVM and cel (0.05–1 ms per review).
    peer_reviews: u64,
}

impl Options {
    fn from_env() -> Options {
        let quick = std::env::var_os("KYVM_BENCH_QUICK").is_some_and(|v| v != "0");
        let number = |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default);
        Options {
            quick,
            reviews: number("KYVM_BENCH_REVIEWS", if quick { 100_000 } else { 1_000_000 }),
            peer_reviews: number("KYVM_BENCH_PEER_REVIEWS", if quick { 10_000 } else { 100_000 }),
        }
    }

    fn criterion_times(&self) -> (Duration, Duration) {
        if self.quick {
            (Duration::from_millis(300), Duration::from_secs(1))
        } else {
            (Duration::from_secs(1), Duration::from_secs(2))
        }
    }
}

fn main() -> ExitCode {
    if std::env::var_os(ROLE_ENV).is_some() {
        return footprint_child();
    }
    let args: Vec<String> = std::env::args().collect();
    let benchmarking = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test" || a == "--list");
    let options = Options::from_env();
    let started = SystemTime::now();

    let criterion_dir = criterion_dir();
    let mut c = Criterion::default().output_directory(&criterion_dir).configure_from_args();
    let mut engines = match load_engines() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let scaling = match ScalingSets::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    peers_group(&mut c, &mut engines, &options);
    scaling_group(&mut c, &scaling, &options);
    c.final_summary();
    if !benchmarking {
        return ExitCode::SUCCESS;
    }

    println!("\n==> allocations per review");
    let allocations = allocations(&mut engines, &scaling);
    println!("\n==> footprint: peak RSS over {} reviews (kyvm, floor) and {} (peers)", options.reviews, options.peer_reviews);
    let footprints: Vec<Footprint> = ENGINES
        .iter()
        .map(|engine| {
            let reviews = if matches!(*engine, "kyvm" | "floor") { options.reviews } else { options.peer_reviews };
            match footprint(engine, reviews) {
                Ok(f) => {
                    println!("{f}");
                    f
                }
                Err(e) => {
                    println!("{engine}: FAILED: {e}");
                    Footprint::failed(engine, reviews, e)
                }
            }
        })
        .collect();

    let medians = Medians { dir: criterion_dir.clone(), since: started };
    let report = report(&medians, &scaling, &allocations, &footprints);
    println!("\n{report}");
    let saved = criterion_dir.join("kyvm-peers-report.md");
    match std::fs::write(&saved, &report) {
        Ok(()) => println!("(saved in {})", saved.display()),
        Err(e) => eprintln!("cannot save the report in {}: {e}", saved.display()),
    }
    if footprints.iter().any(|f| f.error.is_some()) {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

// ---------------------------------------------------------------------------------------
// The engines
// ---------------------------------------------------------------------------------------

/// An engine of [`ENGINES`] with its rule sets loaded.
enum Engine {
    Kyvm(Box<Kyvm>),
    Regorus(Box<RegoInterpreter>),
    Rvm(Box<RegoRvm>),
    Cel(Cel),
    Floor,
}

impl Engine {
    fn load(name: &str) -> Result<Engine, String> {
        Ok(match name {
            "kyvm" => Engine::Kyvm(Box::new(Kyvm::load()?)),
            "regorus" => Engine::Regorus(Box::new(RegoInterpreter::load()?)),
            "regorus_rvm" => Engine::Rvm(Box::new(RegoRvm::load()?)),
            "cel" => Engine::Cel(Cel::load()?),
            "floor" => Engine::Floor,
            other => return Err(format!("unknown engine {other}")),
        })
    }

    fn name(&self) -> &'static str {
        match self {
            Engine::Kyvm(_) => "kyvm",
            Engine::Regorus(_) => "regorus",
            Engine::Rvm(_) => "regorus_rvm",
            Engine::Cel(_) => "cel",
            Engine::Floor => "floor",
        }
    }

    /// AdmissionReview bytes in, verdict out.
    fn end_to_end(&mut self, scratch: &mut Scratch, bytes: &[u8]) -> Result<Verdict, String> {
        match self {
            Engine::Kyvm(k) => k.end_to_end(scratch, bytes),
            Engine::Regorus(r) => r.end_to_end(bytes),
            Engine::Rvm(r) => r.end_to_end(bytes),
            Engine::Cel(c) => c.end_to_end(bytes),
            Engine::Floor => peers::floor_end_to_end(bytes),
        }
    }
}

/// Every engine, each checked for the expected verdict on every payload
/// (tests/peers.rs checks more).
fn load_engines() -> Result<Vec<Engine>, String> {
    let mut scratch = Scratch::new(Limits::default());
    let mut engines = Vec::new();
    for name in ENGINES {
        let mut engine = Engine::load(name)?;
        for p in PAYLOADS {
            let got = engine.end_to_end(&mut scratch, p.bytes)?;
            if got != p.expected {
                return Err(format!("{name} gives {got:?} on {}, expected {:?}", p.name, p.expected));
            }
        }
        engines.push(engine);
    }
    Ok(engines)
}

// ---------------------------------------------------------------------------------------
// 1. peers
// ---------------------------------------------------------------------------------------

fn peers_group(c: &mut Criterion, engines: &mut [Engine], options: &Options) {
    let (warm_up, measure) = options.criterion_times();
    let mut group = c.benchmark_group("peers");
    group.sample_size(20).warm_up_time(warm_up).measurement_time(measure);
    let mut scratch = Scratch::new(Limits::default());

    for p in PAYLOADS {
        let bytes = p.bytes;
        for engine in engines.iter_mut() {
            group.bench_function(BenchmarkId::new(format!("end_to_end/{}", engine.name()), p.name), |b| {
                b.iter(|| engine.end_to_end(&mut scratch, black_box(bytes)).unwrap())
            });
        }
        for engine in engines.iter_mut() {
            let id = BenchmarkId::new(format!("eval_only/{}", engine.name()), p.name);
            match engine {
                Engine::Kyvm(kyvm) => {
                    let doc = Scratch::new(Limits::default());
                    let req = Request::from_admission_review(doc.decode_json(bytes).unwrap()).unwrap();
                    group.bench_function(id, |b| b.iter(|| kyvm.eval_only(&mut scratch, black_box(&req)).unwrap()));
                }
                Engine::Regorus(regorus) => {
                    let input = peers::rego_input(bytes).unwrap();
                    // Cloning a `regorus::Value` is a reference-count increment.
                    group.bench_function(id, |b| b.iter(|| regorus.eval_only(black_box(input.clone())).unwrap()));
                }
                Engine::Rvm(rvm) => {
                    let input = peers::rego_input(bytes).unwrap();
                    group.bench_function(id, |b| b.iter(|| rvm.eval_only(black_box(input.clone())).unwrap()));
                }
                Engine::Cel(cel) => {
                    let input = Cel::input(bytes).unwrap();
                    group.bench_function(id, |b| b.iter(|| cel.eval_only(black_box(&input)).unwrap()));
                }
                Engine::Floor => {
                    let review = peers::floor_decode(bytes).unwrap();
                    group.bench_function(id, |b| b.iter(|| peers::floor_eval(black_box(&review))));
                }
            }
        }
    }
    group.finish();
}

// ---------------------------------------------------------------------------------------
// 2. scaling
// ---------------------------------------------------------------------------------------

/// The payload of the scaling benchmarks.
const SCALING_PAYLOAD: Payload = PAYLOADS[0];

/// The compiled sets of the scaling benchmarks.
struct ScalingSets {
    /// (N, program) with N loaded policies, the same ten (or N) matching.
    loaded: Vec<(usize, Program)>,
    /// Classic policies of the corpus that leave the Pod alone (copied as needed).
    non_matching: usize,
    /// (N, program) with N rules all matching.
    rules: Vec<(usize, Program)>,
    /// Every classic policy file of the corpus, as text.
    classic: Vec<(String, String)>,
    /// Policies and rules the classic files compile to.
    classic_policies: usize,
    classic_rules: usize,
}

impl ScalingSets {
    fn load() -> Result<ScalingSets, String> {
        let matching = scaling::matching_policies()?;
        let others = scaling::non_matching_policies("Pod")?;
        let compile = |what: String, text: &str| -> Result<Program, String> {
            let started = Instant::now();
            let c = kyvm_compiler::compile_str("scaling.yaml", text);
            if c.has_errors() {
                return Err(format!("{what}: does not compile: {:?}", c.diagnostics.iter().find(|d| d.is_error())));
            }
            println!(
                "scaling: {what}: {} policies, {} rules, compiled in {:.1} ms",
                c.policies.len(),
                c.program.rules.len(),
                ms(started.elapsed())
            );
            Ok(c.program)
        };
        let loaded = LOADED
            .iter()
            .map(|&n| Ok((n, compile(format!("{n} loaded policies"), &scaling::loaded_set(n, &matching, &others))?)))
            .collect::<Result<_, String>>()?;
        let rules = MATCHING_RULES
            .iter()
            .map(|&n| Ok((n, compile(format!("{n} matching rules"), &scaling::matching_rules_set(n, &matching))?)))
            .collect::<Result<_, String>>()?;
        let classic = scaling::classic_sources()?;
        let compiled = scaling::compile_sources(&classic);
        Ok(ScalingSets {
            loaded,
            non_matching: others.len(),
            rules,
            classic_policies: compiled.policies.len(),
            classic_rules: compiled.program.rules.len(),
            classic,
        })
    }
}

fn scaling_group(c: &mut Criterion, sets: &ScalingSets, options: &Options) {
    let (warm_up, measure) = options.criterion_times();
    let mut group = c.benchmark_group("scaling");
    group.sample_size(20).warm_up_time(warm_up).measurement_time(measure);
    let mut scratch = Scratch::new(Limits::default());
    let bytes = SCALING_PAYLOAD.bytes;
    for (n, program) in &sets.loaded {
        group.bench_function(BenchmarkId::new("loaded_policies/end_to_end", n), |b| {
            b.iter(|| evaluate_review(program, &mut scratch, black_box(bytes)))
        });
        let doc = Scratch::new(Limits::default());
        let req = Request::from_admission_review(doc.decode_json(bytes).unwrap()).unwrap();
        group.bench_function(BenchmarkId::new("loaded_policies/eval_only", n), |b| {
            b.iter(|| {
                scratch.reset();
                vm::evaluate(program, black_box(&req), scratch.arena(), &scratch.limits).unwrap().results.len()
            })
        });
    }
    for (n, program) in &sets.rules {
        group.bench_function(BenchmarkId::new("matching_rules/end_to_end", n), |b| {
            b.iter(|| evaluate_review(program, &mut scratch, black_box(bytes)))
        });
    }
    group.sampling_mode(SamplingMode::Flat).sample_size(10).measurement_time(measure * 3);
    group.bench_function("compile/classic", |b| b.iter(|| scaling::compile_sources(black_box(&sets.classic)).program.rules.len()));
    group.finish();
}

// ---------------------------------------------------------------------------------------
// 3. allocations
// ---------------------------------------------------------------------------------------

struct AllocationCounts {
    /// (engine, payload) → per review.
    peers: Vec<(&'static str, &'static str, Allocations)>,
    /// kyvm on the scaling sets: (description, per review).
    scaling: Vec<(String, Allocations)>,
}

/// Reviews run before counting (buffers reach their size), then counted.
const WARM_UP_REVIEWS: u64 = 5;
const COUNTED_REVIEWS: u64 = 20;

fn count_per_review(review: impl FnMut()) -> Allocations {
    counting::after_warm_up(WARM_UP_REVIEWS, COUNTED_REVIEWS, review).per(COUNTED_REVIEWS)
}

fn allocations(engines: &mut [Engine], sets: &ScalingSets) -> AllocationCounts {
    assert!(counting::installed(), "the counting allocator is this binary's global allocator");
    let mut scratch = Scratch::new(Limits::default());
    let mut peers = Vec::new();
    for engine in engines.iter_mut() {
        for p in PAYLOADS {
            let a = count_per_review(|| {
                black_box(engine.end_to_end(&mut scratch, p.bytes).unwrap());
            });
            println!("{:>12} {:>16}: {:>7} allocations, {:>9} bytes per review", engine.name(), p.name, a.calls, a.bytes);
            peers.push((engine.name(), p.name, a));
        }
    }
    let mut scaling = Vec::new();
    let bytes = SCALING_PAYLOAD.bytes;
    for (what, n, program) in
        sets.loaded.iter().map(|(n, p)| ("loaded policies", n, p)).chain(sets.rules.iter().map(|(n, p)| ("matching rules", n, p)))
    {
        let a = count_per_review(|| {
            black_box(evaluate_review(program, &mut scratch, bytes));
        });
        println!("kyvm, {n} {what}: {} allocations, {} bytes per review", a.calls, a.bytes);
        scaling.push((format!("{n} {what}"), a));
    }
    AllocationCounts { peers, scaling }
}

// ---------------------------------------------------------------------------------------
// 4. footprint
// ---------------------------------------------------------------------------------------

#[derive(Debug)]
struct Footprint {
    engine: String,
    reviews: u64,
    /// After loading the engine, before the first review.
    loaded: Option<Memory>,
    /// After a tenth of the reviews.
    tenth: Option<Memory>,
    /// After every review.
    end: Option<Memory>,
    seconds: f64,
    error: Option<String>,
}

impl std::fmt::Display for Footprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hwm = |m: Option<Memory>| m.map_or("—".into(), |m| mib(m.hwm_kib));
        write!(
            f,
            "{}: {} reviews in {:.1} s; VmRSS after loading {}, peak after 10% {}, after all {}",
            self.engine,
            thousands(self.reviews),
            self.seconds,
            self.loaded.map_or("—".into(), |m| mib(m.rss_kib)),
            hwm(self.tenth),
            hwm(self.end)
        )
    }
}

impl Footprint {
    fn new(engine: &str, reviews: u64) -> Footprint {
        Footprint { engine: engine.into(), reviews, loaded: None, tenth: None, end: None, seconds: 0.0, error: None }
    }

    fn failed(engine: &str, reviews: u64, error: String) -> Footprint {
        Footprint { error: Some(error), ..Footprint::new(engine, reviews) }
    }
}

/// The footprint process: load one engine, evaluate the payloads in turn, print one line
/// per reading (`footprint <label> <VmRSS KiB> <VmHWM KiB> <seconds>`).
fn footprint_child() -> ExitCode {
    let run = || -> Result<(), String> {
        let name = std::env::var(ENGINE_ENV).map_err(|_| format!("{ENGINE_ENV} not set"))?;
        let reviews: u64 = std::env::var(REVIEWS_ENV).ok().and_then(|v| v.parse().ok()).ok_or(format!("{REVIEWS_ENV} not set"))?;
        let mut engine = Engine::load(&name)?;
        let mut scratch = Scratch::new(Limits::default());
        let started = Instant::now();
        let print = |label: &str| -> Result<(), String> {
            let m = Memory::own()?;
            println!("footprint {label} {} {} {:.3}", m.rss_kib, m.hwm_kib, started.elapsed().as_secs_f64());
            Ok(())
        };
        print("loaded")?;
        for i in 0..reviews {
            let p = &PAYLOADS[(i % PAYLOADS.len() as u64) as usize];
            let verdict = engine.end_to_end(&mut scratch, p.bytes)?;
            if verdict != p.expected {
                return Err(format!("{name}: review {i} ({}) gave {verdict:?}", p.name));
            }
            if i + 1 == reviews / 10 {
                print("tenth")?;
            }
        }
        print("end")
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("footprint: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the footprint process for `engine` and reads its lines.
fn footprint(engine: &str, reviews: u64) -> Result<Footprint, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let out = Command::new(exe)
        .env(ROLE_ENV, "footprint")
        .env(ENGINE_ENV, engine)
        .env(REVIEWS_ENV, reviews.to_string())
        .output()
        .map_err(|e| format!("cannot start the footprint process: {e}"))?;
    if !out.status.success() {
        return Err(format!("footprint process failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim()));
    }
    let mut f = Footprint::new(engine, reviews);
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let ["footprint", label, rss, hwm, seconds] = fields[..] else { continue };
        let m = Memory { rss_kib: rss.parse().map_err(|_| line.to_string())?, hwm_kib: hwm.parse().map_err(|_| line.to_string())? };
        match label {
            "loaded" => f.loaded = Some(m),
            "tenth" => f.tenth = Some(m),
            "end" => {
                f.end = Some(m);
                f.seconds = seconds.parse().unwrap_or(0.0);
            }
            _ => {}
        }
    }
    if f.loaded.is_none() || f.end.is_none() {
        return Err(format!("footprint process printed no readings: {}", String::from_utf8_lossy(&out.stdout)));
    }
    Ok(f)
}

// ---------------------------------------------------------------------------------------
// 5. the report
// ---------------------------------------------------------------------------------------

/// Criterion's output directory: `$CRITERION_HOME`, else `criterion/` in the target
/// directory this binary was built into (`target/release/deps/peers-…`).
fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir).join("criterion");
    }
    let exe = std::env::current_exe().unwrap_or_default();
    match exe.ancestors().nth(3) {
        Some(target) => target.join("criterion"),
        None => PathBuf::from("target/criterion"),
    }
}

/// Medians of the benchmarks this run measured, read from Criterion's files.
struct Medians {
    dir: PathBuf,
    since: SystemTime,
}

impl Medians {
    /// The median of `<group>/<function>/<parameter>` in nanoseconds, if measured by this
    /// run (Criterion's `new/estimates.json` written after the run started).
    fn get(&self, group: &str, function: &str, parameter: Option<&str>) -> Option<f64> {
        let safe = |s: &str| s.replace(['?', '"', '/', '\\', '*', '<', '>', ':', '|', '^'], "_");
        let mut path = self.dir.join(safe(group)).join(safe(function));
        if let Some(p) = parameter {
            path = path.join(safe(p));
        }
        let path = path.join("new/estimates.json");
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok()?;
        if modified < self.since {
            return None;
        }
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
        json.pointer("/median/point_estimate")?.as_f64()
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A duration in nanoseconds, with three significant digits and its unit.
fn time(ns: Option<f64>) -> String {
    let Some(ns) = ns else { return "—".into() };
    let (value, unit) = match ns {
        n if n < 1e3 => (n, "ns"),
        n if n < 1e6 => (n / 1e3, "µs"),
        n if n < 1e9 => (n / 1e6, "ms"),
        n => (n / 1e9, "s"),
    };
    let digits = if value < 10.0 {
        2
    } else if value < 100.0 {
        1
    } else {
        0
    };
    format!("{value:.digits$} {unit}")
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a? / b?)
}

fn times(r: Option<f64>) -> String {
    match r {
        None => "—".into(),
        Some(r) if r < 10.0 => format!("{r:.2}×"),
        Some(r) => format!("{r:.0}×"),
    }
}

fn min_max(values: impl Iterator<Item = Option<f64>>) -> Option<(f64, f64)> {
    let mut out: Option<(f64, f64)> = None;
    for v in values {
        let v = v?;
        out = Some(out.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v))));
    }
    out
}

fn report(medians: &Medians, sets: &ScalingSets, allocations: &AllocationCounts, footprints: &[Footprint]) -> String {
    let mut md = String::new();
    let peer = |kind: &str, engine: &str, payload: &str| medians.get("peers", &format!("{kind}/{engine}"), Some(payload));

    for (kind, title) in
        [("end_to_end", "End to end (AdmissionReview bytes in, verdict out)"), ("eval_only", "Evaluation only (input prepared once)")]
    {
        let _ = writeln!(md, "### peers: {title}, Criterion medians\n");
        let _ = writeln!(
            md,
            "| payload | kyvm | regorus | regorus RVM | cel | floor | regorus / kyvm | RVM / kyvm | cel / kyvm | kyvm / floor |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for p in PAYLOADS {
            let [k, r, v, c, f] = ENGINES.map(|e| peer(kind, e, p.name));
            let _ = writeln!(
                md,
                "| `{}` ({:.1} KB) | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                p.name,
                p.bytes.len() as f64 / 1000.0,
                time(k),
                time(r),
                time(v),
                time(c),
                time(f),
                times(ratio(r, k)),
                times(ratio(v, k)),
                times(ratio(c, k)),
                times(ratio(k, f))
            );
        }
        md.push('\n');
    }

    let _ = writeln!(
        md,
        "### scaling: kyvm on `{}`, Criterion medians\n\nLoaded policies, of which the same ten (the baseline Pod Security policies) apply to the Pod; the others are copies of the {} classic policies of the corpus that have no rule about Pods.\n\n| loaded policies | end to end | evaluation only | end to end / 10 policies | evaluation / 10 policies |\n|---:|---:|---:|---:|---:|",
        SCALING_PAYLOAD.name, sets.non_matching
    );
    let loaded = |n: usize, kind: &str| medians.get("scaling", &format!("loaded_policies/{kind}"), Some(&n.to_string()));
    for &n in &LOADED {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} |",
            thousands(n as u64),
            time(loaded(n, "end_to_end")),
            time(loaded(n, "eval_only")),
            times(ratio(loaded(n, "end_to_end"), loaded(10, "end_to_end"))),
            times(ratio(loaded(n, "eval_only"), loaded(10, "eval_only")))
        );
    }
    let _ = writeln!(md, "\n| rules that all apply | end to end | per rule |\n|---:|---:|---:|");
    for &n in &MATCHING_RULES {
        let t = medians.get("scaling", "matching_rules/end_to_end", Some(&n.to_string()));
        let _ = writeln!(md, "| {} | {} | {} |", thousands(n as u64), time(t), time(t.map(|t| t / n as f64)));
    }
    let compile = medians.get("scaling", "compile/classic", None);
    let _ = writeln!(
        md,
        "\nCompile time of every classic policy file of the corpus ({} files, {} policies, {} rules with autogen), from text: {}.\n",
        sets.classic.len(),
        sets.classic_policies,
        sets.classic_rules,
        time(compile)
    );

    let _ = writeln!(
        md,
        "### Global-heap allocations per review (end to end; count / bytes, after {WARM_UP_REVIEWS} warm-up reviews, mean of {COUNTED_REVIEWS})\n\n| payload | kyvm | regorus | regorus RVM | cel | floor |\n|---|---:|---:|---:|---:|---:|"
    );
    for p in PAYLOADS {
        let cells: Vec<String> = ENGINES
            .iter()
            .map(|e| {
                allocations
                    .peers
                    .iter()
                    .find(|(en, pn, _)| en == e && *pn == p.name)
                    .map_or("—".into(), |(_, _, a)| format!("{} / {}", thousands(a.calls), thousands(a.bytes)))
            })
            .collect();
        let _ = writeln!(md, "| `{}` | {} |", p.name, cells.join(" | "));
    }
    let scaling: Vec<String> = allocations.scaling.iter().map(|(what, a)| format!("{what}: {} / {}", a.calls, a.bytes)).collect();
    let _ = writeln!(md, "\nkyvm on the scaling sets: {}.\n", scaling.join("; "));

    let _ = writeln!(
        md,
        "### Footprint: one process per engine evaluating the six payloads in turn\n\n| engine | reviews | VmRSS after loading | peak (VmHWM) after 10% | peak after all | seconds |\n|---|---:|---:|---:|---:|---:|"
    );
    for f in footprints {
        match &f.error {
            Some(e) => {
                let _ = writeln!(md, "| {} | {} | failed: {e} | | | |", f.engine, thousands(f.reviews));
            }
            None => {
                let m = |m: Option<Memory>, hwm: bool| m.map_or("—".into(), |m| mib(if hwm { m.hwm_kib } else { m.rss_kib }));
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} | {:.1} |",
                    f.engine,
                    thousands(f.reviews),
                    m(f.loaded, false),
                    m(f.tenth, true),
                    m(f.end, true),
                    f.seconds
                );
            }
        }
    }

    // Targets.
    let e2e = |engine: &str| PAYLOADS.iter().map(|p| peer("end_to_end", engine, p.name)).collect::<Vec<_>>();
    let (kyvm, rvm, cel, floor) = (e2e("kyvm"), e2e("regorus_rvm"), e2e("cel"), e2e("floor"));
    let over = |peer: &[Option<f64>]| min_max(peer.iter().zip(&kyvm).map(|(p, k)| ratio(*p, *k)));
    let range = |r: Option<(f64, f64)>| r.map_or("—".into(), |(lo, hi)| format!("{} – {}", times(Some(lo)), times(Some(hi))));
    let met = |ok: Option<bool>| match ok {
        Some(true) => "yes",
        Some(false) => "**no**",
        None => "—",
    };
    let rvm_r = over(&rvm);
    let cel_r = over(&cel);
    let floor_r = min_max(kyvm.iter().zip(&floor).map(|(k, f)| ratio(*k, *f)));
    let growth = ratio(loaded(1000, "end_to_end"), loaded(10, "end_to_end"));
    let pass_allocs: Vec<&Allocations> =
        allocations.peers.iter().filter(|(e, p, _)| *e == "kyvm" && p.ends_with("-pass")).map(|(_, _, a)| a).collect();
    let pass_max = pass_allocs.iter().map(|a| a.calls).max();
    let _ = writeln!(md, "\n### Targets\n\n| target | measured | met |\n|---|---|---|");
    let _ = writeln!(
        md,
        "| kyvm ≥ 10× faster than regorus RVM, end to end, every payload | {} | {} |",
        range(rvm_r),
        met(rvm_r.map(|r| r.0 >= 10.0))
    );
    let _ =
        writeln!(md, "| kyvm ≥ 10× faster than cel, end to end, every payload | {} | {} |", range(cel_r), met(cel_r.map(|r| r.0 >= 10.0)));
    let _ = writeln!(md, "| kyvm within 2× of the floor, end to end | {} | {} |", range(floor_r), met(floor_r.map(|r| r.1 <= 2.0)));
    let _ = writeln!(
        md,
        "| cost per review from 10 to 1,000 loaded policies < 1.5× | {} (evaluation only: {}) | {} |",
        times(growth),
        times(ratio(loaded(1000, "eval_only"), loaded(10, "eval_only"))),
        met(growth.map(|g| g < 1.5))
    );
    let _ = writeln!(
        md,
        "| zero global-heap allocations per review on the pass path | {} allocations (most on a `-pass` payload) | {} |",
        pass_max.map_or("—".into(), |m| m.to_string()),
        met(pass_max.map(|m| m == 0))
    );
    md
}

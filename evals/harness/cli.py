"""``python -m evals`` — run suites, list them, compare two runs.

    python -m evals run --model DIR --suite NAME_OR_FILE --output DIR [--limit N]
    python -m evals list
    python -m evals compare RUN_A RUN_B [--iters N]
    python -m evals verify RESULTS.json --key PUBLIC.pem [--samples DIR] [--rerun N --model DIR]

Exit status: 0 on success, 1 when ``verify`` finds results that are not what was signed (or that
do not reproduce), 2 on a user error (bad task file, data pin mismatch, unloadable model), with the
reason on stderr.
"""

import argparse
import sys
from collections.abc import Sequence

from evals.harness.errors import EvalError


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except EvalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evals", description="Evaluate language models on task suites.")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="evaluate a model directory on a suite")
    run.add_argument("--model", required=True, help="model directory (transformers layout, safetensors weights)")
    run.add_argument("--suite", required=True, help="shipped suite name, or a suite / task YAML file")
    run.add_argument("--output", required=True, help="directory for results.json and samples_<task>.jsonl")
    run.add_argument("--limit", type=int, default=None, help="score only the first N items of each task")
    run.add_argument("--batch-size", type=int, default=8)
    run.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    run.add_argument("--dtype", default="float32", choices=("float32", "bfloat16", "float16"))
    run.add_argument("--adapter", default="transformers", choices=("transformers", "core"))
    run.add_argument(
        "--data-dir", default=None, help="dataset snapshot root (default: $HUB_SHARED_DATA or ../shared/data)"
    )
    run.add_argument("--seed", type=int, default=1234)
    run.add_argument("--bootstrap-iters", type=int, default=1000)
    run.add_argument("--quiet", action="store_true", help="no progress on stderr")
    run.set_defaults(handler=_run)

    listing = commands.add_parser("list", help="list the shipped suites")
    listing.set_defaults(handler=_list)

    compare = commands.add_parser("compare", help="paired bootstrap of run A minus run B on shared items")
    compare.add_argument("run_a")
    compare.add_argument("run_b")
    compare.add_argument("--iters", type=int, default=10000)
    compare.add_argument("--seed", type=int, default=1234)
    compare.set_defaults(handler=_compare)

    check = commands.add_parser("verify", help="check signed results, their per-item files, and re-score items")
    check.add_argument("results", help="a signed results bundle (JSON), as a hub serves it")
    check.add_argument("--key", required=True, help="the signer's public key (PEM), e.g. from the hub's well-known URL")
    check.add_argument("--samples", help="directory with the samples_<task>.jsonl files the results name")
    check.add_argument("--rerun", type=int, default=0, help="score this many random items again")
    check.add_argument("--model", help="the model directory the results name (for --rerun)")
    check.add_argument("--seed", type=int, default=0, help="which items --rerun draws")
    check.add_argument("--device", default="cpu")
    check.add_argument("--tolerance", type=float, default=1e-4, help="largest log-likelihood difference that agrees")
    check.set_defaults(handler=_verify)
    return parser


def _run(args: argparse.Namespace) -> int:
    from evals.harness.run import ProgressEvent, run_suite

    def progress(event: ProgressEvent) -> None:
        if args.quiet or (event.stage == "score" and event.done != event.total):
            return
        task = f" {event.task}" if event.task else ""
        print(f"[{event.stage}]{task} {event.done}/{event.total}", file=sys.stderr)

    run = run_suite(
        model_dir=args.model,
        suite=args.suite,
        output_dir=args.output,
        data_dir=args.data_dir,
        limit=args.limit,
        batch_size=args.batch_size,
        device=args.device,
        dtype=args.dtype,
        adapter=args.adapter,
        seed=args.seed,
        bootstrap_iters=args.bootstrap_iters,
        progress=progress,
    )
    print(format_results(run.results))
    print(f"\nwrote {run.output_dir}/results.json (fingerprint {run.results['fingerprint'][:16]})")
    return 0


def format_results(results: dict) -> str:
    """A plain-text table: task, metric, value ± stderr, 95 % interval, n."""
    lines = [f"{'task':<42} {'metric':<16} {'value':>10} {'± stderr':>10}  {'95% interval':<23} {'n':>6}"]
    rows = [
        (name, metric, summary)
        for name, task in results["tasks"].items()
        for metric, summary in task["metrics"].items()
    ]
    aggregate = results["suite"]["aggregate"]
    if aggregate is not None:
        rows.append((f"{results['suite']['name']} ({aggregate['method']})", aggregate["metric"], aggregate))
    for name, metric, summary in rows:
        stderr = f"{summary['stderr']:.4f}" if summary["stderr"] is not None else "n/a"
        interval = f"[{summary['ci95'][0]:.4f}, {summary['ci95'][1]:.4f}]" if summary["ci95"] is not None else "n/a"
        lines.append(
            f"{name:<42} {metric:<16} {summary['value']:>10.4f} {stderr:>10}  {interval:<23} {summary['n']:>6}"
        )
    return "\n".join(lines)


def _list(args: argparse.Namespace) -> int:
    from evals.harness.suite import available_suites

    for name in available_suites():
        print(name)
    return 0


def _compare(args: argparse.Namespace) -> int:
    from pathlib import Path

    from evals.harness.compare import compare_runs

    for row in compare_runs(Path(args.run_a), Path(args.run_b), seed=args.seed, iters=args.iters):
        low, high = row.comparison.ci95
        print(
            f"{row.task:<42} {row.comparison.metric:<16} delta {row.comparison.delta:+.4f} "
            f"[{low:+.4f}, {high:+.4f}] p={row.comparison.p_value:.4f} n={row.comparison.n}"
        )
    return 0


def _verify(args: argparse.Namespace) -> int:
    from pathlib import Path

    from evals.harness.signing import SignatureMismatch
    from evals.harness.verify import verify_results

    try:
        key = Path(args.key).read_bytes()
    except OSError as exc:
        raise EvalError(f"cannot read the key {args.key}: {exc.strerror}") from None
    try:
        report = verify_results(
            Path(args.results),
            public_key=key,
            samples_dir=Path(args.samples) if args.samples else None,
            rerun=args.rerun,
            model_dir=Path(args.model) if args.model else None,
            seed=args.seed,
            device=args.device,
            tolerance=args.tolerance,
        )
    except SignatureMismatch as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    source = report.payload.get("source", {})
    print(
        f"signature: valid ({report.payload['suite']['name']}, fingerprint {report.payload['fingerprint'][:16]}, "
        f"{source.get('model', {}).get('repo', 'model')}@{str(source.get('model', {}).get('commit', ''))[:12]})"
    )
    if report.files_checked:
        changed = ", ".join(report.files_changed) or "none"
        print(f"per-item files: {len(report.files_checked)} checked, changed: {changed}")
    if report.rerun:
        print(
            f"re-scored {report.rerun} items: {report.agreeing} agree ({report.identical} bitwise), "
            f"max |difference| {report.max_abs_diff:.3g}"
        )
        for item in report.disagreeing:
            print(f"  disagrees: {item}")
    print("OK" if report.ok else "FAILED: the results do not hold")
    return 0 if report.ok else 1

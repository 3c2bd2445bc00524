"""The ``freqextract`` command: parse arguments, call the library, print. No logic lives here."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shlex
import sys
from pathlib import Path

from . import __version__
from .errors import Diverged, UserError

EXIT_USER_ERROR = 2  # a mistake in the input: one line, nothing written
EXIT_DIVERGED = 3  # training diverged: one line; metrics.json says so, the last good checkpoints are kept

DESCRIPTION = """\
Extract pure frequency components from a noisy mixed signal with a stateful LSTM.

The default everywhere is the exact assignment ('spec'): four sines at 1/3/5/7 Hz, per-sample amplitude and
phase noise, a one-hot selector, one sample per step with the LSTM state carried, train on noise seed 1,
test on seed 2. Start with:  freqextract run

Under the spec S carries no information, and the model that wins is a clock: it ignores S and generates
each sine from the reset. `freqextract run` plants that clock in the LSTM and polishes it (about a minute;
config spec-planted); `--config spec` learns it from a random init (about ten minutes). It extracts nothing
from another signal; the 'offsets' config trains a tracker that reads S. Every model records which it is
(its card), and evaluate, stream and export print it.
"""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is the same one-line error (exit 2) as any other user mistake."""

    def error(self, message: str):
        self.exit(2, f"freqextract: error: {self.prog}: {message} (see {self.prog} --help)\n")


def one_line(message: str) -> str:
    """The message on one line: line breaks and other control characters (from a file name or a value
    the user typed) are shown escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)


def _add_config_args(p: argparse.ArgumentParser, default: str = "the embedded spec") -> None:
    from .config import bundled_configs

    p.add_argument("--config", metavar="FILE|NAME",
                   help=f"TOML config: a path, or a bundled name ({', '.join(bundled_configs())}; default: "
                        f"{default})")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override one config value, e.g. --set train.seed=3 (repeatable)")


def _run_dir_args(p: argparse.ArgumentParser) -> None:
    """The options of the commands that train into a run directory."""
    _add_config_args(p, "spec-planted, a clock planted and polished; spec = learned")
    p.add_argument("--device", help="cpu, cuda[:N] or mps (default: config train.device, 'auto')")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--out", metavar="DIR", help="run directory (default: runs/<scenario>-<timestamp>)")
    p.add_argument("--overwrite", action="store_true", help="replace the results of an existing run directory")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="go on with an interrupted run from its last checkpoints, under RUN_DIR/config.toml "
                        "(no --config/--set/--device/--out/--overwrite)")
    p.add_argument("--init-from", metavar="CKPT",
                   help="start from this model checkpoint's weights (transfer to another frequency set or "
                        "band; e.g. the bundled extractor's model.pt); sets train.init_from")


def _load_cfg(args):
    from .config import DEFAULT_RUN, load

    overrides = list(args.overrides)
    if getattr(args, "device", None):
        overrides.append(f'train.device="{args.device}"')
    if getattr(args, "init_from", None):
        path = Path(args.init_from)
        if not path.is_file():
            raise UserError(f"--init-from {path}: checkpoint not found")
        overrides.append(f"train.init_from={json.dumps(str(path.resolve()))}")  # a TOML basic string
    return load(args.config or DEFAULT_RUN, overrides)


# ---------------------------------------------------------------------------------------------- commands
def cmd_generate(args) -> int:
    from .config import load
    from .signals.data import save_csv, save_npz
    from .signals.scenarios import generate

    overrides = list(args.overrides)
    if args.scenario:
        overrides.append(f'signal.scenario="{args.scenario}"')
    cfg = load(args.config, overrides, signal_only=True)  # the model and training settings are not used here
    seed = cfg.signal.test_seed if args.seed is None else args.seed
    if seed < 0:
        raise UserError(f"--seed: must be >= 0, got {seed}")
    out = Path(args.out)
    if out.suffix.lower() != ".npz":
        raise UserError(f"--out {out}: the file name must end in .npz")
    if args.csv and Path(args.csv).suffix.lower() != ".csv":
        raise UserError(f"--csv {args.csv}: the file name must end in .csv")
    for opt, path in (("--out", out), ("--csv", args.csv)):
        if path and Path(path).is_dir():
            raise UserError(f"{opt} {path}: is a directory")
    sig = generate(cfg.signal, seed)
    save_npz(sig, out)
    if args.csv:
        save_csv(sig, args.csv)
    print(f"wrote {out}" + (f" and {args.csv}" if args.csv else "")
          + f": scenario {cfg.signal.scenario}, seed {seed}, {sig.n_freqs} x {sig.n_samples} rows")
    return 0


def _train_into_run_dir(args, evaluate: bool) -> Path:
    """`run` and `train`: a new run directory, or (--resume) the interrupted one, under its own config."""
    from .studies.run import resume_run, run

    if args.resume is None:
        return run(_load_cfg(args), out_dir=args.out, overwrite=args.overwrite, progress=not args.quiet,
                   echo=print, evaluate=evaluate)
    options = {"--config": args.config, "--set": args.overrides, "--device": args.device, "--out": args.out,
               "--overwrite": args.overwrite, "--init-from": args.init_from}
    given = [opt for opt, value in options.items() if value]
    if given:
        raise UserError(f"--resume: goes on under {Path(args.resume) / 'config.toml'}; it does not take "
                        f"{', '.join(given)}")
    return resume_run(args.resume, progress=not args.quiet, echo=print, evaluate=evaluate)


def cmd_run(args) -> int:
    run_dir = _train_into_run_dir(args, evaluate=True)
    print(f"run directory: {run_dir}")
    if (run_dir / "report.html").exists():
        print(f"report: {run_dir / 'report.html'}")
    return 0


def cmd_train(args) -> int:
    run_dir = _train_into_run_dir(args, evaluate=False)
    print(f"checkpoint: {run_dir / 'checkpoints' / 'final.pt'}")
    return 0


def _note(line: str) -> None:
    """What the model is, or a warning about the data: one line on standard error."""
    print(f"freqextract: {one_line(line)}", file=sys.stderr)


def cmd_evaluate(args) -> int:
    from .evaluation.run_eval import evaluate_checkpoint
    from .models.card import describe

    metrics = evaluate_checkpoint(args.checkpoint, args.data, device=args.device or "cpu",
                                  with_ablations=not args.no_ablations)
    _note(describe(metrics["model_card"]))
    for warning in metrics["warnings"]:
        _note(warning)
    if args.json:
        print(json.dumps(metrics, indent=2))
    elif metrics.get("kind") == "conditioned":
        from .evaluation.mix import format_requests

        print(format_requests(metrics))
    else:
        from .fmt import mse

        print(f"{args.data}: MSE {mse(metrics['mse'], 6)}")
        for f, m in zip(metrics["frequencies"], metrics["per_frequency_mse"], strict=True):
            print(f"  {f:g} Hz: {mse(m, 6)}")
        if "ablation" in metrics:
            a = metrics["ablation"]
            print(f"  S zeroed: {mse(a['test_mse_S_zeroed'], 6)}   S shuffled: {mse(a['test_mse_S_shuffled'], 6)}")
    return 0


def cmd_baselines(args) -> int:
    from .atomic import write_text
    from .config import load
    from .evaluation.baselines import check_params, to_csv
    from .evaluation.reference_panel import for_file, format_table
    from .signals.data import load_signal

    params = check_params(args.order, args.bandwidth, args.centre, args.forgetting, args.regularization,
                          args.constant)
    cfg = load(args.config, args.overrides) if args.config or args.overrides else None
    out = Path(args.out) if args.out else None
    if out is not None:
        if out.suffix.lower() not in (".csv", ".json"):
            raise UserError(f"--out {out}: the file name must end in .csv or .json")
        if out.is_dir():
            raise UserError(f"--out {out}: is a directory")
    result = {"data": str(args.data), **for_file(load_signal(args.data), cfg, args.tune_on, args.bayes_particles,
                                                 **params)}
    if out is not None:
        text = to_csv(result) if out.suffix.lower() == ".csv" else json.dumps(result, indent=2) + "\n"
        try:
            write_text(out, text)
        except OSError as e:
            raise UserError(f"--out {out}: cannot write ({e.__class__.__name__}: {e.strerror or e})"
                            ) from None
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    if out is not None and not args.json:
        print(f"wrote {out}")
    return 0


def cmd_export(args) -> int:
    from .serving.onnx import export_onnx, sidecar_path

    meta = export_onnx(args.checkpoint, args.out)
    _note(meta["model_note"])
    print(f"wrote {args.out} and {sidecar_path(args.out)}: one step, x (streams, {meta['n_inputs']}), "
          f"h and c ({meta['num_layers']}, streams, {meta['hidden_size']}); frequencies "
          f"{', '.join(f'{f:g}' for f in meta['frequencies'])} Hz at fs {meta['fs']:g} Hz")
    return 0


def cmd_stream(args) -> int:
    from .serving.stream import open_extractor
    from .serving.stream_io import check_out, input_fs, stream

    check_out(args.out)  # before a model is loaded or standard input is read
    if args.fs is not None and not args.fs > 0:
        raise UserError(f"--fs: must be > 0 Hz, got {args.fs:g}")
    fs = input_fs(args.input) or args.fs
    checkpoint, onnx = args.checkpoint, args.onnx
    if checkpoint is None and onnx is None:  # a bundled model: its ONNX export where onnxruntime is installed
        from .serving import bundled

        name = args.model or bundled.DEFAULT
        onnx = bundled.onnx_path(name) if importlib.util.find_spec("onnxruntime") else None
        checkpoint = None if onnx else bundled.checkpoint_path(name)
    elif args.model:
        raise UserError("--model: picks a bundled model; it does not go with --checkpoint or --onnx")
    extractor = open_extractor(checkpoint=checkpoint, onnx=onnx, frequencies=args.freq, fs=fs)
    n = stream(extractor, args.input, args.out, notes=_note)
    if args.out:
        print(f"wrote {args.out}: {n} samples x {extractor.n_columns} frequencies", file=sys.stderr)
    return 0


def cmd_models(args) -> int:
    from .serving import bundled

    found = bundled.names()
    if not found:
        print("no bundled models in this installation")
    for name in found:
        card = bundled.card(name)
        default = " (default)" if name == bundled.DEFAULT else ""
        print(f"{name}{default}: {card.get('summary', '')}")
        if args.verbose:
            print(json.dumps(card, indent=2))
    return 0


def cmd_report(args) -> int:
    from .reporting.report import write_report

    path = write_report(args.run_dir)
    print(f"wrote {path}")
    return 0


def cmd_explain(args) -> int:
    from .evaluation.explain import format_table
    from .studies.explain_run import explain_run

    data, files = explain_run(args.run_dir, seconds=args.seconds)
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(format_table(data))
        print("wrote " + ", ".join(str(p) for p in files))
    return 0


def cmd_sweep(args) -> int:
    from .config import DEFAULT_RUN
    from .studies.sweep import sweep, worker_command
    from .studies.sweep_config import load

    overrides = list(args.overrides)
    if args.trials is not None:
        overrides.append(f"sweep.n_trials={args.trials}")
    if args.study is not None:
        overrides.append(f"sweep.name={json.dumps(args.study)}")
    if args.device:
        overrides.append(f'train.device="{args.device}"')
    base, sweep_cfg = load(args.config or DEFAULT_RUN, overrides, preset=args.preset)
    result = sweep(base, sweep_cfg, args.out, args.storage, args.workers, echo=print)
    if result.report is None:
        cmd = worker_command(result.study.storage_spec, result.study.name)
        print("study created; start workers (anywhere that reaches the storage) with:\n  "
              + shlex.join(["freqextract", *cmd[3:]]))
        return 0
    print(result.headline)
    print(f"wrote {result.report}")
    failed = [c for c in result.codes if c != 0]
    if failed:
        print(f"freqextract: error: {len(failed)} of {len(result.codes)} workers exited with an error",
              file=sys.stderr)
        return 1
    return 0


def cmd_sweep_worker(args) -> int:
    from .studies.sweep import work

    counts = work(args.storage, args.study, args.out, progress=args.progress, echo=print)
    print("worker done: " + ", ".join(f"{n} {state}" for state, n in counts.items()))
    return 0


def cmd_sweep_report(args) -> int:
    from .studies.sweep_summary import write_sweep_report

    path, headline = write_sweep_report(args.sweep_dir, args.storage, args.study)
    print(headline)
    print(f"wrote {path}")
    return 0


# ---------------------------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    from .config import bundled_configs

    parser = _Parser(prog="freqextract", description=DESCRIPTION,
                     epilog=f"bundled configs (--config NAME): {', '.join(bundled_configs())}",
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"freqextract {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("generate", help="write a noisy mixed signal as NPZ (and optionally the CSV table)",
                       description="Generate one sequence of a scenario for one noise seed, in the NPZ "
                                   "exchange format (t, S, targets, frequencies, fs, meta).")
    _add_config_args(p)
    p.add_argument("--scenario", choices=["spec", "phase-scaled", "offsets", "mix"],
                   help="overrides signal.scenario (mix: 1..6 components anywhere in signal.band; fix them with "
                        "--set signal.mix_frequencies=[2.5, 6.8])")
    p.add_argument("--seed", type=int, help="noise seed (default: signal.test_seed)")
    p.add_argument("--out", required=True, metavar="FILE.npz", help="output NPZ")
    p.add_argument("--csv", metavar="FILE.csv", help="also write the K*N-row table as CSV")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("run", help="the whole pipeline: data, training, evaluation, figures, report",
                       description="Generate the train and test signals, train, evaluate (with the S "
                                   "ablations), and write a run directory: config.toml, metrics.json, "
                                   "checkpoints/, figures/, report.html.")
    _run_dir_args(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("train", help="train only: writes config.toml, history and checkpoints/final.pt",
                       description="Train a model and write its run directory without evaluating it.")
    _run_dir_args(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="metrics of a saved model on any exchange-format NPZ (or table CSV)",
                       description="Run a checkpoint over a data file from the reset state and report the "
                                   "MSE over all rows, per frequency, and the S ablations. Prints on stderr "
                                   "what the model is (its card: the scenario it was trained on, and a "
                                   "clock that ignores S and generates the sines from the reset, or a "
                                   "tracker that reads S), and warns when the data's scenario is not the "
                                   "model's.")
    p.add_argument("--checkpoint", required=True, metavar="CKPT", help="a checkpoints/*.pt file")
    p.add_argument("--data", required=True, metavar="FILE", help="NPZ in the exchange format, or a table CSV")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.add_argument("--no-ablations", action="store_true", help="skip the S-zeroed and S-shuffled runs")
    p.add_argument("--device", help="cpu (default), cuda[:N] or mps")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("baselines", help="classical references (band-pass, RLS, tuned, Bayes) on a data file",
                       description="Run every reference on a data file and print their MSE over all rows and "
                                   "per frequency, each labelled with its kind: zero; clock oracle (never "
                                   "reads S; a bound only for spec/phase-scaled); causal band-pass, "
                                   "zero-phase band-pass (NOT causal) and causal known-frequency RLS at "
                                   "hand-set defaults (untuned); rls-tuned and bandpass-tuned, their "
                                   "parameters chosen by MSE on training-side seeds of the file's scenario "
                                   "(from its meta, else --config); and on offsets bayes-smc, a particle "
                                   "filter approximating the posterior mean (the best causal estimate).")
    _add_config_args(p)
    p.add_argument("--tune-on", type=int, nargs="+", metavar="SEED",
                   help="noise seeds of the tuning sequences (default: eval.tune_seed.., 1001..1008); never "
                        "the file's own seed")
    p.add_argument("--bayes-particles", type=int, metavar="N",
                   help="particles of bayes-smc on offsets (default: eval.bayes_particles, 4096; 0 = skip)")
    p.add_argument("--data", required=True, metavar="FILE", help="NPZ in the exchange format, or a table CSV")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.add_argument("--out", metavar="FILE", help="also write the comparison (.csv: one row per baseline, "
                                                 "or .json)")
    p.add_argument("--order", type=int, default=2, help="Butterworth order of the band-passes (default 2)")
    p.add_argument("--bandwidth", type=float, default=0.8, metavar="HZ",
                   help="half width of the pass band, Hz (default 0.8: f - 0.8 to f + 0.8)")
    p.add_argument("--centre", choices=["arithmetic", "geometric"], default="arithmetic",
                   help="band edges f +- bandwidth (arithmetic, default) or width 2*bandwidth with geometric "
                        "mean f (no phase lag at f)")
    p.add_argument("--forgetting", type=float, default=0.999, metavar="LAMBDA",
                   help="RLS forgetting factor in (0, 1] (default 0.999: memory ~1000 samples)")
    p.add_argument("--regularization", type=float, default=0.1,
                   help="RLS initial inverse covariance, P0 = I / regularization (default 0.1)")
    p.add_argument("--constant", action="store_true", help="RLS: also fit a constant (DC) term")
    p.epilog = "--order .. --constant set the untuned baselines; the tuned ones choose their own."
    p.set_defaults(func=cmd_baselines)

    p = sub.add_parser("export", help="write one step of a streaming model as ONNX, with a JSON sidecar",
                       description="Export one step of a checkpoint's model, x, h, c -> y, h_out, c_out, "
                                   "with the state as explicit inputs and outputs and a dynamic streams "
                                   "axis, to FILE.onnx, and its frequencies, fs, sizes, tensor names and "
                                   "config and the model's card (clock or tracker, its scenario) to "
                                   "FILE.onnx.json, and prints the card on stderr. Checks that onnxruntime "
                                   "loads it and matches PyTorch. Needs: pip install \"freqextract[export]\".")
    p.add_argument("--checkpoint", required=True, metavar="CKPT", help="a checkpoints/*.pt file")
    p.add_argument("--out", required=True, metavar="FILE.onnx",
                   help="the ONNX file (the sidecar FILE.onnx.json goes beside it)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("stream", help="extract sample by sample from a file or standard input, CSV out",
                       description="Push the samples S of an input through a streaming model from the reset "
                                   "state and write one column per chosen frequency as CSV (t from an NPZ, "
                                   "else the sample index n). Input: an exchange-format NPZ, a CSV with one "
                                   "column of S (an optional header line) or with a header naming the column "
                                   "S (t,S, or the table generate --csv writes), or - for that CSV on "
                                   "standard input, processed line by line as it arrives. Without "
                                   "--checkpoint or --onnx it uses the bundled general extractor, told each "
                                   "--freq as a number. Prints on stderr what the model is: a spec model is a "
                                   "clock that ignores S and outputs the sines it learned, started at the "
                                   "first sample; only a tracker (e.g. the offsets config or the general "
                                   "extractor) extracts the components of your signal.")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--checkpoint", metavar="CKPT", help="a checkpoints/*.pt file (PyTorch)")
    src.add_argument("--onnx", metavar="FILE.onnx", help="a file written by freqextract export (onnxruntime)")
    p.add_argument("--model", metavar="NAME",
                   help="a bundled model (default without --checkpoint/--onnx: 'extractor', the general "
                        "extractor: any frequency in 0.5..20 Hz at 1 kHz; `freqextract models` lists them)")
    p.add_argument("--fs", type=float, metavar="HZ",
                   help="the sampling rate of CSV input (an NPZ records its own; default: the model's); a "
                        "frequency-conditioned model converts the requested Hz to cycles per sample")
    p.add_argument("--input", required=True, metavar="FILE",
                   help="FILE.npz, FILE.csv (one column of S, or a column named S), or - for standard input")
    p.add_argument("--freq", type=float, nargs="+", metavar="HZ",
                   help="the frequencies to extract, e.g. --freq 1 3 (a selector model: default all of its "
                        "own; a conditioned model: any in its band, required)")
    p.add_argument("--out", metavar="FILE.csv",
                   help="write the CSV here (atomically) instead of standard output")
    p.set_defaults(func=cmd_stream)

    p = sub.add_parser("models", help="list the models shipped inside the package, ready to use",
                       description="List the bundled models (freqextract stream uses 'extractor' when no "
                                   "--checkpoint or --onnx is given), with what each does and how well.")
    p.add_argument("--verbose", action="store_true", help="print each model's whole card (JSON)")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("report", help="rebuild the figures and the self-contained report.html of a run",
                       description="Redraw the figures of a finished run directory from its files "
                                   "(metrics.json, predictions.npz, data/test.npz, history.json, "
                                   "config.toml) and write RUN_DIR/report.html, a single page with "
                                   "everything embedded.")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory written by freqextract run")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("explain", help="show a trained selector model from the inside: free-running "
                                       "frequency, drift, hidden-state rings",
                       description="Run the model of a run directory (checkpoints/final.pt) from the reset "
                                   "with S = 0 and with noisy S for --seconds, well past the trained horizon, "
                                   "and measure per selector its free-running frequency, its error in ppm and "
                                   "its phase drift; the hidden state's principal components (one ring per "
                                   "oscillator); and the recurrence linearised along its orbit (Floquet "
                                   "multipliers). Writes RUN_DIR/explain.json, RUN_DIR/explain.npz and "
                                   "figures/explain_rings.png, figures/explain_drift.png, and prints a table "
                                   "(the JSON with --json). Selector models only (not scenario mix).")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory written by freqextract run or train")
    p.add_argument("--seconds", type=float, default=60.0,
                   help="how long to run the model from the reset (default: %(default)g)")
    p.add_argument("--json", action="store_true", help="print the explanation as JSON instead of the table")
    p.set_defaults(func=cmd_explain)

    _sweep_parsers(sub)
    return parser


def _sweep_parsers(sub) -> None:
    p = sub.add_parser("sweep", help="an Optuna study over a search space: trials are run directories",
                       description="Create an Optuna study over the search space of the config's [sweep] "
                                   "table (see configs/sweep.toml), put N trials in it and run them with K "
                                   "local worker processes; each trial is an ordinary run directory under "
                                   "OUT/trials/<n>. Then writes OUT/report.html. With --storage "
                                   "postgresql://... workers on any machine join the same study "
                                   "(freqextract sweep worker).")
    _add_config_args(p, "spec-planted, a clock planted and polished; spec = learned")
    p.add_argument("--preset", metavar="NAME",
                   help="a sweep design under the config (a TOML path or a bundled name: multiseed = the "
                        "config trained on training seeds 0..N-1, N = --trials)")
    p.add_argument("--trials", type=int, metavar="N",
                   help="trials in the study in all (default: sweep.n_trials)")
    p.add_argument("--storage", metavar="URL",
                   help="database URL (postgresql://user@host/db; any SQLAlchemy URL Optuna takes) or a "
                        "journal file (default: OUT/study.journal)")
    p.add_argument("--study", metavar="NAME", help="study name (default: sweep.name)")
    p.add_argument("--workers", type=int, default=1, metavar="K",
                   help="local worker processes (default 1; 0 = only create the study, for workers "
                        "elsewhere)")
    p.add_argument("--out", metavar="DIR", help="sweep directory (default: sweeps/<name>-<timestamp>)")
    p.add_argument("--device", help="cpu, cuda[:N] or mps for every trial (default: config train.device)")
    p.set_defaults(func=cmd_sweep)
    steps = p.add_subparsers(dest="sweep_command", metavar="{worker,report}", parser_class=_Parser)

    w = steps.add_parser("worker", help="join a study: run its waiting trials until none is left",
                         description="Take the study's waiting trials one by one and run each as a run "
                                     "directory, until none is left. Start as many as you like, on any "
                                     "machine that reaches the storage; the study holds the whole config.")
    w.add_argument("--storage", required=True, metavar="URL",
                   help="the study's database URL, journal file, or sweep directory")
    w.add_argument("--study", metavar="NAME", help="study name (default: the only study in the storage)")
    w.add_argument("--out", metavar="DIR",
                   help="sweep directory for the trials' run directories (default: the one the study was "
                        "created with)")
    w.add_argument("--progress", action="store_true", help="show each trial's training progress bar")
    w.set_defaults(func=cmd_sweep_worker)

    r = steps.add_parser("report", help="best trials, importance and history of a study as an HTML page",
                         description="Write summary.json, figures/ and a self-contained report.html for a "
                                     "study: best trials, parameter importance, optimisation history, and "
                                     "for a multi-seed study the mean with a 95% confidence interval.")
    r.add_argument("sweep_dir", nargs="?", metavar="DIR", help="the sweep directory (where the report goes)")
    r.add_argument("--storage", metavar="URL", help="the study's database URL (default: DIR's study)")
    r.add_argument("--study", metavar="NAME", help="study name (default: the only study in the storage)")
    r.set_defaults(func=cmd_sweep_report)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except UserError as e:
        print(f"freqextract: error: {one_line(str(e))}", file=sys.stderr)
        return EXIT_USER_ERROR
    except Diverged as e:
        print(f"freqextract: error: {one_line(str(e))}", file=sys.stderr)
        return EXIT_DIVERGED
    except KeyboardInterrupt:
        print("freqextract: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `freqextract ... | head`: the reader left; not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())

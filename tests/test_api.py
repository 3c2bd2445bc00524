"""The public surface: the lazy top-level names, the subpackages' curated names, and the module paths of
the flat layout, which still import (with a DeprecationWarning) for code written against them."""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

import freqextract
from freqextract._aliases import MOVED, SplitModule

ROOT = Path(__file__).resolve().parent.parent
SUBPACKAGES = ["signals", "models", "evaluation", "training", "serving", "reporting", "studies"]

# every public top-level name each module of the flat layout defined: all must still resolve by the old path
OLD_NAMES = {
    "data": "REQUIRED_ARRAYS table_columns to_table from_table to_streams streams_from save_npz load_npz save_csv "
            "load_csv load_signal",
    "checkpoint": "FORMAT KINDS TRAINING_STATE versions model_kind build_model save write load config_of load_model "
                  "load_weights",
    "evaluate": "predict predict_many with_S mse r2_score pearson_r snr_db signal_metrics improvement "
                "input_mixture_estimate default_bin_seconds error_vs_time phase_track phase_drift t_interval "
                "multi_seed ablations evaluate_signal write_rows_csv",
    "baselines": "DEFAULTS CENTRES RLS_CHUNK check_params zero clock_oracle band_edges design response "
                 "bandpass_causal bandpass_zero_phase rls_causal Baseline BASELINES run_all compare format_table "
                 "to_csv",
    "bayes": "MAX_HYPOTHESES noise_moments grid_posterior_mean",
    "train": "select_device configure_threads seed_everything per_stream_mse fused_window literal_window WindowFn "
             "train_sequence TrainResult PHASES Curriculum schedule focus_loss fresh_init train candidate_seeds "
             "train_best_of",
    "resume": "ARRAY to_plain from_plain rng_states set_rng_states state_path save load restore",
    "stream": "NpState ModelInfo Backend TorchBackend load_streaming_model select_frequencies StreamExtractor "
              "open_extractor",
    "stream_io": "STDIN Samples parse_lines read_samples check_out stream",
    "export": "FORMAT FORMAT_VERSION INPUTS OUTPUTS EXPORT_PACKAGES CHECK_ATOL sidecar_path require export_onnx "
              "read_sidecar OnnxBackend",
    "plots": "COLORS FREQ_COLORS DPI graph1 graph2 training_curve error_histogram error_vs_time psd",
    "report": "CSS make_figures render write_report",
    "sweep_plots": "STATE_STYLE history intermediate importance parallel",
    "pipeline": "RESULT_FILES default_run_dir prepare_run_dir resumable run resume_run record_divergence "
                "time_to_target evaluate_all summary evaluate_checkpoint",
    "sweep": "JOURNAL ATTR_CONFIG ATTR_DIR ATTR_VERSION is_url masked resolve_storage open_storage study_name Study "
             "load create claim trial_metrics lookup summary_attrs run_trial work worker_command check_workers "
             "start_workers SweepRun sweep",
    "sweep_config": "SAMPLERS PRUNERS PARAM_TYPES SEED_KEYS METRIC_PATTERNS Param SweepConfig parse_param "
                    "parse_sweep from_data load loads dumps trial_config",
    "sweep_report": "TARGET_OVERALL TARGET_EACH BEST_ROWS STATES trial_record over_seeds collect SHOWN render "
                    "make_figures headline write_sweep_report",
    # packages now, whose __init__ keeps the old modules' names
    "signals": "GENERATOR_VERSION MixedSignal time_axis draw generate",
    "models": "State detach_state StatefulLSTM SequenceLSTM count_parameters",
}


@pytest.fixture
def forget_old_paths():
    """Import the old paths afresh (an alias imported once is cached) and leave no alias behind."""

    def forget():
        for old in MOVED:
            sys.modules.pop(old, None)
            freqextract.__dict__.pop(old.rsplit(".", 1)[1], None)

    forget()
    yield
    forget()


def test_every_old_module_is_aliased_or_still_a_package():
    assert {f"freqextract.{m}" for m in OLD_NAMES} == set(MOVED) | {"freqextract.signals", "freqextract.models"}


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_module_path_imports_the_new_module_with_a_warning(old, forget_old_paths):
    new = MOVED[old]
    with pytest.warns(DeprecationWarning, match=rf"^{old} is deprecated .*{new if isinstance(new, str) else new[0]}"):
        module = importlib.import_module(old)
    assert sys.modules[old] is module
    if isinstance(new, str):  # the same object under both names: patching the old one patches the library
        assert module is importlib.import_module(new)
        assert getattr(freqextract, old.rsplit(".", 1)[1]) is module
    else:
        assert isinstance(module, SplitModule) and isinstance(module, types.ModuleType)
        with pytest.raises(AttributeError, match="moved to"):
            module.no_such_name  # noqa: B018
    for name in OLD_NAMES[old.rsplit(".", 1)[1]].split():
        value = getattr(module, name)
        homes = [importlib.import_module(n) for n in ([new] if isinstance(new, str) else new)]
        assert any(getattr(h, name, None) is value for h in homes), name


def test_the_warning_points_at_the_importing_line(forget_old_paths):
    with pytest.warns(DeprecationWarning) as seen:
        import freqextract.stream  # noqa: F401
    assert Path(seen[0].filename) == Path(__file__)


@pytest.mark.parametrize("package", ["signals", "models"])
def test_the_old_modules_that_became_packages_keep_their_names(package):
    module = importlib.import_module(f"freqextract.{package}")
    for name in OLD_NAMES[package].split():
        assert getattr(module, name) is not None


def test_top_level_names_resolve_lazily():
    code = ("import sys, freqextract; assert 'torch' not in sys.modules; "
            "import freqextract.signals, freqextract.evaluation, freqextract.serving, freqextract.reporting, "
            "freqextract.studies, freqextract.runtime; assert 'torch' not in sys.modules; "
            "print(sorted(n for n in freqextract.__all__ if getattr(freqextract, n) is None))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    assert {"RunConfig", "MixedSignal", "to_table", "StatefulLSTM", "StreamExtractor", "export_onnx",
            "UserError", "load_config", "__version__"} <= set(freqextract.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        freqextract.nothing  # noqa: B018


@pytest.mark.parametrize("package", SUBPACKAGES)
def test_each_subpackage_names_its_api_and_what_it_may_import(package):
    module = importlib.import_module(f"freqextract.{package}")
    assert module.__doc__ and "import" in module.__doc__
    assert module.__all__ and all(getattr(module, name) is not None for name in module.__all__)
    submodules = {m.name for m in pkgutil.iter_modules(module.__path__)}
    # a public name equal to a submodule's would be replaced by the module once that is imported
    assert not set(module.__all__) & submodules


def test_python_dash_m_runs_the_cli():
    out = subprocess.run([sys.executable, "-m", "freqextract", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == f"freqextract {freqextract.__version__}"


# ---------------------------------------------------------------------------------------------- the repository
def _imported_modules(tree: ast.AST, package: str | None = None) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level and package:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                mod = f"{base}.{node.module}" if node.module else base
            else:
                mod = node.module or ""
            found.add(mod)
            found |= {f"{mod}.{a.name}" for a in node.names}
    return found


def _repository_sources() -> dict[str, tuple[ast.AST, str | None]]:
    sources = {}
    for path in [*(ROOT / "src").rglob("*.py"), *(ROOT / "tests").rglob("*.py"), *(ROOT / "benchmarks").glob("*.py")]:
        package = None
        if (ROOT / "src") in path.parents:
            parts = path.relative_to(ROOT / "src").with_suffix("").parts
            package = ".".join(parts if parts[-1] == "__init__" else parts[:-1]).removesuffix(".__init__")
        sources[str(path.relative_to(ROOT))] = (ast.parse(path.read_text(encoding="utf-8")), package)
    notebook = json.loads((ROOT / "notebooks" / "demo.ipynb").read_text(encoding="utf-8"))
    code = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")
    sources["notebooks/demo.ipynb"] = (ast.parse(code), None)
    return sources


def test_the_repository_itself_uses_no_old_module_path():
    """The aliases are for code outside; everything here imports the new paths (this file names the old
    ones only as strings)."""
    here = str(Path(__file__).relative_to(ROOT))
    offenders = {}
    for name, (tree, package) in _repository_sources().items():
        if name == here:
            continue
        old = sorted(m for m in _imported_modules(tree, package) if m in MOVED)
        if old:
            offenders[name] = old
    assert not offenders, f"old module paths imported: {offenders}"

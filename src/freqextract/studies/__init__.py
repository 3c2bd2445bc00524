"""Studies: whole jobs that train, evaluate and report, one run directory or an Optuna study of many.

:mod:`.run` is one run (data, training, evaluation, figures, report, resume after an interruption;
its entry point is ``studies.run.run``); :mod:`.explain_run` explains a run's model and keeps it in the
run; :mod:`.sweep` creates a study and runs its trials in worker processes (``studies.sweep.sweep``);
:mod:`.storage` opens the study wherever it lives; :mod:`.sweep_config` reads the ``[sweep]`` config;
:mod:`.sweep_summary` reads a study back into the summary its report renders. The top of the library: may
import every layer below (reporting included), never the CLI. Names load lazily (torch and Optuna are
imported where they are used); ``run``, ``sweep`` and ``explain_run`` are the modules here, so their
functions are not re-exported under the same names.
"""

from .._lazy import lazy_names

_NAMES = {
    **dict.fromkeys(["resume_run", "resumable", "prepare_run_dir", "RESULT_FILES"], ".run"),
    **dict.fromkeys(["SweepRun", "create", "work", "worker_command", "start_workers"], ".sweep"),
    **dict.fromkeys(["Study", "resolve_storage", "open_storage"], ".storage"),
    **dict.fromkeys(["SweepConfig", "Param", "trial_config"], ".sweep_config"),
    "load_sweep_config": (".sweep_config", "load"),
    **dict.fromkeys(["collect", "over_seeds", "write_sweep_report"], ".sweep_summary"),
}
__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_names(__name__, _NAMES)

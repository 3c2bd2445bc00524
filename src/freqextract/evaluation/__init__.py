"""Evaluation: how good a model, or any estimator, is on a signal.

:mod:`.metrics` holds the numbers (MSE, R², SNR, error over time, phase drift, the multi-seed test and
the S ablations); :mod:`.baselines` the classical estimators a model is compared with (band-pass, RLS;
numpy and scipy only); :mod:`.tuning` a grid search, and :mod:`.references` those baselines tuned with it
on training-side seeds; :mod:`.bayes` (a phase grid, for the lock-on) and :mod:`.smc` (a particle filter,
the whole sequence) approximate the Bayes estimate on the offsets scenario; :mod:`.run_eval` the metrics
of a trained run and of a checkpoint on a data file; :mod:`.verdict` whether a run met its scenario's
target; :mod:`.mix` the general extractor's metrics against its own tuned references; :mod:`.explain` a
selector model from the inside (free-running frequency and drift past the horizon, hidden-state PCA, the
recurrence linearised along its orbit), kept in a run by :mod:`.explain_files`. May import the
foundation, ``signals`` and ``models``; never training, serving or anything above. Names load lazily: the
metrics and baselines work without torch.
"""

from .._lazy import lazy_names

_NAMES = {
    **dict.fromkeys(["mse", "signal_metrics", "r2_score", "pearson_r", "snr_db", "improvement",
                     "input_mixture_estimate", "error_vs_time", "phase_drift", "phase_track", "t_interval",
                     "multi_seed", "ablations", "predict", "predict_many", "evaluate_signal", "write_rows_csv"],
                    ".metrics"),
    **dict.fromkeys(["BASELINES", "run_all", "compare", "bandpass_causal", "bandpass_zero_phase",
                     "rls_causal"], ".baselines"),
    "grid_posterior_mean": ".bayes",
    "smc_posterior_mean": ".smc",
    **dict.fromkeys(["Axis", "grid_search"], ".tuning"),
    **dict.fromkeys(["TUNED", "tune", "run_tuned"], ".references"),
    "explain_with_arrays": ".explain",
    **dict.fromkeys(["evaluate_all", "evaluate_checkpoint", "summary", "time_to_target", "model_card"], ".run_eval"),
}
__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_names(__name__, _NAMES)

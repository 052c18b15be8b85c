"""Survey data in: the spec, reading survey files (CSV, Parquet, Excel, SPSS), validating and
cleaning them, warnings on suspicious data, aggregating to sufficient statistics (pandas or Dask),
and group moments read off the aggregates.

The lowest layer: it imports nothing else of whatif but :mod:`whatif.errors`.
"""

from whatif.exports import lazy_exports

EXPORTS = {
    "Channel": "whatif.data.spec",
    "Driver": "whatif.data.spec",
    "Influencer": "whatif.data.spec",
    "Spec": "whatif.data.spec",
    "load_spec": "whatif.data.spec",
    "parse_spec": "whatif.data.spec",
    "Survey": "whatif.data.survey",
    "load_survey": "whatif.data.survey",
    "read_table": "whatif.data.survey",
    "fingerprint_files": "whatif.data.survey",
    "SEPARATORS": "whatif.data.readers",
    "Table": "whatif.data.readers",
    "channel_id": "whatif.data.readers",
    "detect_separator": "whatif.data.readers",
    "read_survey_file": "whatif.data.readers",
    "apply_missing_codes": "whatif.data.clean",
    "channel_names": "whatif.data.clean",
    "channel_spellings": "whatif.data.clean",
    "clean_spelling": "whatif.data.clean",
    "codes_note": "whatif.data.clean",
    "constant_notes": "whatif.data.clean",
    "dates_note": "whatif.data.clean",
    "GAP": "whatif.data.diagnose",
    "collinearity_warnings": "whatif.data.diagnose",
    "far_out": "whatif.data.diagnose",
    "outlier_warnings": "whatif.data.diagnose",
    "survey_warnings": "whatif.data.diagnose",
    "MIN_GROUP_RESPONSES": "whatif.data.validate",
    "binary_values": "whatif.data.validate",
    "check_binary": "whatif.data.validate",
    "check_columns_present": "whatif.data.validate",
    "check_counts": "whatif.data.validate",
    "check_group_sizes": "whatif.data.validate",
    "check_numeric": "whatif.data.validate",
    "check_scale": "whatif.data.validate",
    "check_spec_channels": "whatif.data.validate",
    "check_weights": "whatif.data.validate",
    "check_years": "whatif.data.validate",
    "measured_flags": "whatif.data.validate",
    "min_responses_for": "whatif.data.validate",
    "Layout": "whatif.data.aggregate",
    "Partial": "whatif.data.aggregate",
    "accumulate": "whatif.data.aggregate",
    "aggregate": "whatif.data.aggregate",
    "combine": "whatif.data.aggregate",
    "finalize": "whatif.data.aggregate",
    "layout_from_frame": "whatif.data.aggregate",
    "terms_of": "whatif.data.aggregate",
    "LOCAL_SCHEDULERS": "whatif.data.engine_dask",
    "aggregate_parquet": "whatif.data.engine_dask",
    "is_parquet_dataset": "whatif.data.engine_dask",
    "group_covariance": "whatif.data.moments",
    "group_means": "whatif.data.moments",
    "interval": "whatif.data.moments",
}

__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)

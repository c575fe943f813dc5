"""Objects followed across years of orthophotos of one area: matched from year to year under one ``object_id``,
with what changed (new, unchanged, changed, gone). Pure shapely: no files, no models."""

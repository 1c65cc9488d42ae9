"""Writing results: atomically, as XLSX, CSV and Parquet."""

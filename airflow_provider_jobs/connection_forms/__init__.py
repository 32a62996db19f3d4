"""Connection forms, one module per vendor: plain data, importable without Airflow."""

"""Data: mapped tables, engines, migrations, the embedded server and the change feed."""

"""The database: typed models, the async engine and session factory, migrations."""

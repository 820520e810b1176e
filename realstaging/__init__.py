"""realstaging: the Real Staging AI API, the example project for sqlmigrate."""

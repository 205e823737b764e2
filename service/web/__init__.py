"""Server-rendered pages for analysts: search, substance, check, lag, reports, backtest."""

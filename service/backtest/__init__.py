"""Early-warning backtest: would the watchlist have flagged compounds before they were scheduled?"""

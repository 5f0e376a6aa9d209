# stand-in for build/glue/backtest.py (mock provider)

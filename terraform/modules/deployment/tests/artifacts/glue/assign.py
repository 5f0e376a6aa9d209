# stand-in for build/glue/clean.py (mock provider)

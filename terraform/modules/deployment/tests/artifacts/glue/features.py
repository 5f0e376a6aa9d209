# stand-in for build/glue/features.py (mock provider)

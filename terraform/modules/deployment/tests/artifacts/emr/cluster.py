# stand-in for build/emr/cluster.py (mock provider)

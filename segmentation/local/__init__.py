"""The embedded local stack: moto server (AWS), the Kafka-protocol broker, MLflow server."""

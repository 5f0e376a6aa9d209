"""The local tooling beside the runtime package: the embedded stack (moto launcher, patches and
WSGI layers, the Kafka-protocol broker, MLflow), the local ASL interpreter, the local API Gateway,
the synthetic data set, the demo and the ``segmentation`` console command.

Nothing here is shipped to AWS: the Lambda layer and the Glue/EMR wheel are built from the
``segmentation`` package alone, which never imports this one.
"""

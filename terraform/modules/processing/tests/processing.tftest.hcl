mock_provider "aws" {
  source = "../../tests/mocks/aws"
}

variables {
  name_prefix         = "seg"
  lake_prefix         = "seg-prod"
  ledger_table        = "seg-ledger"
  segments_table      = "seg-segments"
  artifacts_bucket    = { name = "seg-prod-artifacts", arn = "arn:aws:s3:::seg-prod-artifacts" }
  kms_key_arn         = "arn:aws:kms:eu-west-1:123456789012:key/k"
  etl_role            = { arn = "arn:aws:iam::123456789012:role/seg-etl", name = "seg-etl" }
  ml_role             = { arn = "arn:aws:iam::123456789012:role/seg-ml", name = "seg-ml" }
  glue_scripts        = { clean = { path = "build/glue/clean.py", hash = "aA==" }, features = { path = "build/glue/features.py", hash = "aA==" }, backtest = { path = "build/glue/backtest.py", hash = "aA==" } }
  job_roles           = { backtest = { arn = "arn:aws:iam::123456789012:role/seg-evaluation", name = "seg-evaluation" } }
  wheels              = { "segmentation-0.1.0-py3-none-any.whl" = { path = "w.whl", hash = "aA==" }, "pydantic-2.14.4-py3-none-any.whl" = { path = "p.whl", hash = "aA==" } }
  emr_entry_point     = { path = "build/emr/cluster.py", hash = "aA==" }
  emr_venv            = { path = "build/emr/pyspark_venv.tar.gz", hash = "aA==" }
  mlflow_tracking_uri = "http://mlflow.internal"
  vpc                 = { id = "vpc-1", cidr_block = "10.40.0.0/16", subnet_ids = ["subnet-a", "subnet-b"], security_group_ids = ["sg-workloads"] }
}

run "glue_jobs" {
  command = apply

  assert {
    condition     = toset(keys(aws_glue_job.this)) == toset(["clean", "features", "backtest"])
    error_message = "jobs clean, features and backtest"
  }
  assert {
    condition     = alltrue([for k in ["clean", "features"] : aws_glue_job.this[k].glue_version == "5.0" && aws_glue_job.this[k].role_arn == var.etl_role.arn])
    error_message = "Glue 5.0 jobs clean and features run as the etl role"
  }
  assert {
    condition     = aws_glue_job.this["backtest"].role_arn == "arn:aws:iam::123456789012:role/seg-evaluation" && output.glue_job_role_arns["backtest"] == aws_glue_job.this["backtest"].role_arn
    error_message = "the backtest runs as the role job_roles gives it, not etl"
  }
  assert {
    condition     = toset(keys(aws_iam_role_policy.glue_runtime)) == toset(["etl", "backtest"]) && aws_iam_role_policy.glue_runtime["backtest"].role == "seg-evaluation" && aws_iam_role_policy.glue_runtime["backtest"].policy == aws_iam_role_policy.glue_runtime["etl"].policy && aws_iam_role_policy.glue_runtime["etl"].role == "seg-etl"
    error_message = "every role a Glue job runs as gets the same Glue runtime policy"
  }
  assert {
    condition     = one(aws_glue_job.this["clean"].command).script_location == "s3://seg-prod-artifacts/glue/clean.py"
    error_message = "script from the artifacts bucket"
  }
  assert {
    condition     = aws_s3_object.glue_script["clean"].source == "build/glue/clean.py" && aws_s3_object.glue_script["clean"].key == "glue/clean.py"
    error_message = "the packaged script is what gets uploaded"
  }
  assert {
    condition     = aws_glue_job.this["features"].default_arguments["--additional-python-modules"] == "s3://seg-prod-artifacts/wheels/pydantic-2.14.4-py3-none-any.whl,s3://seg-prod-artifacts/wheels/segmentation-0.1.0-py3-none-any.whl"
    error_message = "the core wheel and its dependencies come from S3"
  }
  assert {
    condition     = aws_glue_job.this["features"].default_arguments["--python-modules-installer-option"] == "--no-deps"
    error_message = "pip must not reach PyPI (no NAT)"
  }
  assert {
    condition     = aws_glue_job.this["clean"].default_arguments["--lake_prefix"] == "seg-prod"
    error_message = "jobs know the lake"
  }
  assert {
    condition     = alltrue([for j in aws_glue_job.this : j.default_arguments["--ledger_table"] == "seg-ledger"])
    error_message = "jobs know the run ledger"
  }
  assert {
    condition     = aws_glue_job.this["clean"].security_configuration == aws_glue_security_configuration.this.name && aws_glue_job.this["clean"].connections == tolist([aws_glue_connection.network[0].name])
    error_message = "encrypted, in the VPC"
  }
  assert {
    condition     = one(aws_glue_connection.network[0].physical_connection_requirements).security_group_id_list == toset(["sg-workloads", aws_security_group.jobs[0].id])
    error_message = "workers wear the network's workload group (443 to the endpoints) and the jobs' own group"
  }
  assert {
    condition     = one(one(aws_glue_security_configuration.this.encryption_configuration).s3_encryption).s3_encryption_mode == "SSE-KMS"
    error_message = "job output encrypted with KMS"
  }
}

run "emr_serverless" {
  command = apply

  assert {
    condition     = startswith(aws_emrserverless_application.this.release_label, "emr-7.") && aws_emrserverless_application.this.type == "spark"
    error_message = "Spark on emr-7.x"
  }
  assert {
    condition     = output.emr_job_role_arn == var.ml_role.arn
    error_message = "the ml role is the job role"
  }
  assert {
    condition     = output.emr_cluster_entry_point == "s3://seg-prod-artifacts/emr/cluster.py"
    error_message = "entry point in the artifacts bucket"
  }
  assert {
    condition     = strcontains(output.emr_spark_submit_parameters, "spark.archives=s3://seg-prod-artifacts/emr/pyspark_venv.tar.gz#environment") && strcontains(output.emr_spark_submit_parameters, "PYSPARK_PYTHON=./environment/bin/python")
    error_message = "the venv brings Python 3.11 and the core package"
  }
  assert {
    condition     = strcontains(output.emr_spark_submit_parameters, "spark.emr-serverless.driverEnv.SEG_MLFLOW_TRACKING_URI=http://mlflow.internal") && strcontains(output.emr_spark_submit_parameters, "SEG_LAKE_PREFIX=seg-prod") && strcontains(output.emr_spark_submit_parameters, "spark.executorEnv.SEG_LEDGER_TABLE=seg-ledger") && strcontains(output.emr_spark_submit_parameters, "spark.emr-serverless.driverEnv.SEG_SEGMENTS_TABLE=seg-segments")
    error_message = "the driver gets the SEG_* settings and the MLflow URI"
  }
  assert {
    condition     = !strcontains(output.emr_spark_submit_parameters, "\"")
    error_message = "parameters embed in the ASL JSON string as they are"
  }
}

run "a_job_role_names_a_known_job" {
  command = plan
  variables {
    job_roles = { backtset = { arn = "arn:aws:iam::123456789012:role/seg-evaluation", name = "seg-evaluation" } }
  }
  expect_failures = [var.job_roles]
}

run "missing_script_fails_on_aws" {
  command = plan
  variables {
    glue_scripts = { clean = { path = "build/glue/clean.py", hash = null }, features = { path = "build/glue/features.py", hash = "aA==" } }
    job_roles    = {}
  }
  expect_failures = [aws_glue_job.this["clean"]]
}

run "missing_artifacts_allowed_locally" {
  command = apply
  variables {
    glue_scripts            = { clean = { path = "c.py", hash = null }, features = { path = "f.py", hash = null } }
    job_roles               = {}
    wheels                  = {}
    emr_entry_point         = { path = "cluster.py", hash = null }
    emr_venv                = null
    vpc                     = null
    allow_missing_artifacts = true
  }

  assert {
    condition     = length(aws_s3_object.glue_script) == 0 && length(aws_glue_job.this) == 2
    error_message = "jobs exist, nothing uploaded"
  }
  assert {
    condition     = !strcontains(output.emr_spark_submit_parameters, "spark.archives")
    error_message = "no venv, no archive"
  }
}

run "settings_reach_both_platforms" {
  command = apply
  variables {
    settings = { SEG_TIMESTAMP_MIN = "1970-01-02" }
  }

  assert {
    condition     = alltrue([for j in aws_glue_job.this : j.default_arguments["--SEG_TIMESTAMP_MIN"] == "1970-01-02" && j.default_arguments["--SEG_SEGMENTS_TABLE"] == "seg-segments"])
    error_message = "Glue has no environment: the Spark steps' settings are --SEG_* job arguments (segmentation.pipeline.entry sets them)"
  }
  assert {
    condition     = strcontains(output.emr_spark_submit_parameters, "spark.emr-serverless.driverEnv.SEG_TIMESTAMP_MIN=1970-01-02") && strcontains(output.emr_spark_submit_parameters, "spark.executorEnv.SEG_TIMESTAMP_MIN=1970-01-02")
    error_message = "EMR gets the same settings as environment"
  }
}

run "settings_are_seg_names" {
  command = plan
  variables {
    settings = { TIMESTAMP_MIN = "1970-01-02" }
  }
  expect_failures = [var.settings]
}

run "a_job_with_a_role_and_arguments_of_its_own" {
  command = apply
  variables {
    glue_scripts  = { clean = { path = "build/glue/clean.py", hash = "aA==" }, features = { path = "build/glue/features.py", hash = "aA==" }, assign = { path = "build/glue/assign.py", hash = "aA==" } }
    job_roles     = { assign = { arn = "arn:aws:iam::123456789012:role/seg-assign", name = "seg-assign" } }
    job_arguments = { assign = { "--segments_table" = "seg-segments" } }
  }
  assert {
    condition     = aws_glue_job.this["assign"].role_arn == "arn:aws:iam::123456789012:role/seg-assign" && aws_glue_job.this["clean"].role_arn == var.etl_role.arn
    error_message = "assign runs as its own role, clean as etl"
  }
  assert {
    condition     = aws_glue_job.this["assign"].default_arguments["--segments_table"] == "seg-segments" && !contains(keys(aws_glue_job.this["clean"].default_arguments), "--segments_table")
    error_message = "a job's own arguments go to that job only (clean would refuse an unknown one)"
  }
  assert {
    condition     = toset(keys(aws_iam_role_policy.glue_runtime)) == toset(["etl", "assign"]) && aws_iam_role_policy.glue_runtime["assign"].role == "seg-assign"
    error_message = "Glue's own runtime needs (logs, metrics, TempDir) for each role a job runs as"
  }
  assert {
    condition     = output.glue_job_arn["assign"] == aws_glue_job.this["assign"].arn
    error_message = "each job's ARN by name"
  }
}

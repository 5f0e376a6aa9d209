# Spark area: the two jars that let local Spark speak s3a:// (and Glue-style s3://) to moto.
# They ship inside the sagemaker-pyspark *source* package on PyPI; we only extract them (the
# package itself is never installed). vendor/ is git-ignored.
SPARK_JARS_DIR ?= vendor/jars
SAGEMAKER_PYSPARK := sagemaker-pyspark==1.4.5
SPARK_JAR_NAMES := hadoop-aws-3.3.1.jar aws-java-sdk-bundle-1.11.901.jar

SETUP_TARGETS += spark-jars

.PHONY: spark-jars spark-jars-clean

spark-jars: $(SPARK_JARS_DIR)/.extracted  ## download hadoop-aws + AWS SDK bundle jars for s3a

$(SPARK_JARS_DIR)/.extracted: $(VENV)/.installed
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  $(BIN)/pip download -q "$(SAGEMAKER_PYSPARK)" --no-deps --no-binary :all: -d "$$tmp" && \
	  tar -xzf "$$tmp"/sagemaker_pyspark-*.tar.gz -C "$$tmp" \
	    $(foreach j,$(SPARK_JAR_NAMES),sagemaker_pyspark-1.4.5/deps/jars/$(j)) && \
	  mkdir -p $(SPARK_JARS_DIR) && \
	  mv $(foreach j,$(SPARK_JAR_NAMES),"$$tmp"/sagemaker_pyspark-1.4.5/deps/jars/$(j)) $(SPARK_JARS_DIR)/
	@touch $@
	@echo "spark jars in $(SPARK_JARS_DIR): $(SPARK_JAR_NAMES)"

spark-jars-clean:  ## remove the downloaded Spark jars
	rm -rf $(SPARK_JARS_DIR)

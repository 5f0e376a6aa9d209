# Terraform: format, validate, module tests (mock provider), checkov, packaging, and the local
# environment applied against the embedded moto server.
#
# Offline by default on machines that carry the provider mirror: TF_PLUGIN_MIRROR defaults to
# /opt/tf-plugins when that folder exists. When set, a CLI config under build/terraform points
# provider installation at the mirror (hashicorp/* only) with a shared plugin cache; when empty,
# `terraform init` downloads from the registry as usual.

TF ?= terraform
TF_ROOT := terraform
TF_MODULE_DIRS := $(sort $(patsubst %/,%,$(dir $(wildcard $(TF_ROOT)/modules/*/main.tf))))
TF_ENV_DIRS := $(TF_ROOT)/envs/aws $(TF_ROOT)/envs/local
TF_BUILD := $(abspath build/terraform)
TF_PLUGIN_MIRROR ?= $(if $(wildcard /opt/tf-plugins/registry.terraform.io),/opt/tf-plugins,)
TF_CLI_RC := $(TF_BUILD)/terraformrc
MOTO_ENDPOINT ?= http://127.0.0.1:$(or $(SEG_MOTO_PORT),5000)

ifneq ($(strip $(TF_PLUGIN_MIRROR)),)
export TF_CLI_CONFIG_FILE := $(TF_CLI_RC)
else ifeq ($(wildcard $(TF_CLI_CONFIG_FILE)),)
# A TF_CLI_CONFIG_FILE naming a missing file only earns a warning per command; drop it.
unexport TF_CLI_CONFIG_FILE
endif
export TF_IN_AUTOMATION := 1
export CHECKPOINT_DISABLE := 1

LINT_TARGETS += tf-fmt-check tf-validate checkov
CLEAN_TARGETS += tf-clean

.PHONY: tf-cli-config tf-init tf-fmt tf-fmt-check tf-validate tf-test tf-docs checkov package \
	package-lambdas package-layer package-wheel package-deps package-scripts package-emr-venv \
	tf-local-apply tf-local-destroy tf-clean

tf-cli-config: setup  ## write the Terraform CLI config that installs providers from TF_PLUGIN_MIRROR
	@$(PYTHON) -m segmentation_local.terraform cli-config >/dev/null

tf-init: tf-cli-config  ## terraform init of every module and environment, one after the other (shared plugin cache)
	@$(PYTHON) -m segmentation_local.terraform init

tf-fmt: tf-cli-config  ## rewrite the Terraform files in canonical format
	$(TF) fmt -recursive $(TF_ROOT)

tf-fmt-check: tf-cli-config  ## fail if any Terraform file is not canonically formatted
	$(TF) fmt -check -recursive -diff $(TF_ROOT)

tf-validate: tf-init  ## terraform validate both environments (they compose every module; modules are validated by tf-test)
	@for d in $(TF_ENV_DIRS); do \
	  echo "validate $$d"; $(TF) -chdir=$$d validate -no-color >/dev/null || { $(TF) -chdir=$$d validate -no-color; exit 1; }; \
	done

tf-test: tf-init  ## terraform test (mock provider) in every module
	@for d in $(TF_MODULE_DIRS); do \
	  echo "test $$d"; $(TF) -chdir=$$d test -no-color || exit 1; \
	done

tf-docs: setup  ## regenerate the input/output tables of the module READMEs from variables.tf/outputs.tf
	$(PYTHON) tools/tf_docs.py

checkov:  ## static security checks over the Terraform (skips are inline, each with a reason)
	$(BIN)/checkov --config-file .checkov.yaml

package:  ## build Lambda zips, the dependency layer, the core wheel and the Glue/EMR scripts into build/
	$(PYTHON) tools/package.py all

package-lambdas package-layer package-wheel package-scripts package-deps: package-%:
	$(PYTHON) tools/package.py $*

package-emr-venv:  ## build the EMR Serverless Python venv archive (needs Docker; Amazon Linux 2023)
	$(PYTHON) tools/package.py emr-venv

tf-local-apply: tf-cli-config  ## apply terraform/envs/local against the moto server at MOTO_ENDPOINT (packages first)
	SEG_AWS_ENDPOINT_URL=$(MOTO_ENDPOINT) $(PYTHON) -m segmentation_local.terraform apply-local

tf-local-destroy: tf-cli-config  ## destroy what tf-local-apply created
	SEG_AWS_ENDPOINT_URL=$(MOTO_ENDPOINT) $(PYTHON) -m segmentation_local.terraform destroy-local

tf-clean:
	find $(TF_ROOT) -name .terraform -type d -prune -exec rm -rf {} +
	find $(TF_ROOT) -name '.terraform.lock.hcl' -delete

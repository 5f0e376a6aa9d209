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

.PHONY: tf-cli-config tf-init tf-fmt tf-fmt-check tf-validate tf-test checkov package \
	package-lambdas package-layer package-wheel package-deps package-scripts package-emr-venv \
	tf-local-apply tf-local-destroy tf-clean

tf-cli-config:  ## write the Terraform CLI config that installs providers from TF_PLUGIN_MIRROR
ifneq ($(strip $(TF_PLUGIN_MIRROR)),)
	@mkdir -p $(TF_BUILD)/plugin-cache
	@printf '%s\n' \
	  'provider_installation {' \
	  '  filesystem_mirror {' \
	  '    path    = "$(TF_PLUGIN_MIRROR)"' \
	  '    include = ["registry.terraform.io/hashicorp/*"]' \
	  '  }' \
	  '  direct {' \
	  '    exclude = ["registry.terraform.io/hashicorp/*"]' \
	  '  }' \
	  '}' \
	  'plugin_cache_dir = "$(TF_BUILD)/plugin-cache"' > $(TF_CLI_RC).tmp
	@cmp -s $(TF_CLI_RC).tmp $(TF_CLI_RC) && rm $(TF_CLI_RC).tmp || mv $(TF_CLI_RC).tmp $(TF_CLI_RC)
endif

tf-init: tf-cli-config  ## terraform init (no backend) of every module and environment
	@for d in $(TF_MODULE_DIRS) $(TF_ENV_DIRS); do \
	  $(TF) -chdir=$$d init -backend=false -input=false -no-color >/dev/null || { echo "init failed in $$d"; exit 1; }; \
	done

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

checkov:  ## static security checks over the Terraform (skips are inline, each with a reason)
	$(BIN)/checkov --config-file .checkov.yaml

package:  ## build Lambda zips, the dependency layer, the core wheel and the Glue/EMR scripts into build/
	$(PYTHON) tools/package.py all

package-lambdas package-layer package-wheel package-scripts package-deps: package-%:
	$(PYTHON) tools/package.py $*

package-emr-venv:  ## build the EMR Serverless Python venv archive (needs Docker; Amazon Linux 2023)
	$(PYTHON) tools/package.py emr-venv

tf-local-apply: tf-cli-config  ## apply terraform/envs/local against the moto server at MOTO_ENDPOINT
	$(PYTHON) tools/package.py lambdas scripts
	$(TF) -chdir=$(TF_ROOT)/envs/local init -input=false -no-color >/dev/null
	$(TF) -chdir=$(TF_ROOT)/envs/local apply -input=false -auto-approve -var aws_endpoint=$(MOTO_ENDPOINT)

tf-local-destroy: tf-cli-config  ## destroy what tf-local-apply created
	$(TF) -chdir=$(TF_ROOT)/envs/local init -input=false -no-color >/dev/null
	$(TF) -chdir=$(TF_ROOT)/envs/local destroy -input=false -auto-approve -var aws_endpoint=$(MOTO_ENDPOINT)

tf-clean:
	find $(TF_ROOT) -name .terraform -type d -prune -exec rm -rf {} +
	find $(TF_ROOT) -name '.terraform.lock.hcl' -delete

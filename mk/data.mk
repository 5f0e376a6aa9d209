# Synthetic data set (docs/data.md).
DATA_DIR ?= $(STATE_DIR)/data

.PHONY: data

data: setup  ## generate the paper-scale synthetic data set (50k users, 90 days) into .local/data
	$(BIN)/segmentation generate --users 50000 --days 90 --seed 42 --out $(DATA_DIR)

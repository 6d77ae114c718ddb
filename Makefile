# Development entry points. `make test` and `make demo` set everything up on
# first use (tools/bootstrap.py is idempotent and quick when nothing changed).

VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3

# DDS stays on this machine, and the venv is the ROS prefix.
export ROS_AUTOMATIC_DISCOVERY_RANGE := LOCALHOST
export AMENT_PREFIX_PATH := $(CURDIR)/$(VENV)
export ROS_LOG_DIR := $(CURDIR)/build/ros_log

.PHONY: setup test lint demo clean

setup:
	$(PYTHON) tools/bootstrap.py

# The tests run against the installed package (the one colcon built), from
# outside the source tree so that `import litetrack_ros` cannot find the sources.
test: setup
	cd build && LITETRACK_REQUIRE_ROS=1 ../$(BIN)/pytest -c ../pytest.ini --rootdir .. ../test $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .

# Like the tests, from build/ so that the installed package (with its generated
# service module and executables) is imported, not the sources.
demo: setup
	cd build && ../$(BIN)/python -m litetrack_ros.ros_tools.demo --output $(CURDIR)/demo_output $(DEMO_ARGS)

clean:
	rm -rf build log install $(VENV)

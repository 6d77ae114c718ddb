# Development entry points. `make test` and `make demo` set everything up on
# first use (tools/bootstrap.py is idempotent and quick when nothing changed).
#
# Two venvs, one per ROS 2 distribution (the ros-jazzy-* wheels pin their own
# ros-* versions): .venv/ + build/ (kilted, everything) and .venv-jazzy/ +
# build-jazzy/ (jazzy, only for the ROS-facing tests).

VENV := .venv
BIN := $(VENV)/bin
JAZZY_VENV := .venv-jazzy
PYTHON ?= python3
# The ROS-facing tests that the jazzy venv runs (the 60 Hz soak test stays kilted-only).
JAZZY_TESTS := -m 'ros and not slow'

# DDS stays on this machine, and the venv is the ROS prefix.
export ROS_AUTOMATIC_DISCOVERY_RANGE := LOCALHOST
export AMENT_PREFIX_PATH := $(CURDIR)/$(VENV)
export ROS_LOG_DIR := $(CURDIR)/build/ros_log

.PHONY: setup setup-jazzy setup-ros-tools test test-kilted test-jazzy lint demo clean

setup:
	$(PYTHON) tools/bootstrap.py

setup-jazzy:
	$(PYTHON) tools/bootstrap.py --distro jazzy

# Optional (development): the real ROS 2 launch and CLI tools in both venvs, from the
# snapshots that the search tool's fetch brought into MIRROR (see README, Development):
#   make setup-ros-tools MIRROR=/work/.mirror
# The launch and CLI tests then run for real; without the tools they skip.
ROS_TOOLS_EXTRACT ?= ../shared/ros-tools/extract.sh
setup-ros-tools:
	@test -n "$(MIRROR)" || { echo 'usage: make setup-ros-tools MIRROR=<folder of snapshots>'; exit 2; }
	$(ROS_TOOLS_EXTRACT) $(MIRROR) build-ros-tools/rolling rolling
	$(ROS_TOOLS_EXTRACT) $(MIRROR) build-ros-tools/jazzy jazzy
	$(PYTHON) tools/bootstrap.py --ros-tools build-ros-tools/rolling
	$(PYTHON) tools/bootstrap.py --distro jazzy --ros-tools build-ros-tools/jazzy

# The whole suite on kilted, then the ROS-facing tests on jazzy.
test: test-kilted test-jazzy

# The tests run against the installed package (the one colcon built), from
# outside the source tree so that `import litetrack_ros` cannot find the sources.
test-kilted: setup
	cd build && LITETRACK_REQUIRE_ROS=1 ../$(BIN)/pytest -c ../pytest.ini --rootdir .. ../test $(PYTEST_ARGS)

# Exit status 5 (nothing selected, e.g. PYTEST_ARGS named a ROS-free test) is no failure.
test-jazzy: export AMENT_PREFIX_PATH := $(CURDIR)/$(JAZZY_VENV)
test-jazzy: export ROS_LOG_DIR := $(CURDIR)/build-jazzy/ros_log
test-jazzy: setup-jazzy
	cd build-jazzy && LITETRACK_REQUIRE_ROS=1 ../$(JAZZY_VENV)/bin/pytest -c ../pytest.ini \
		--rootdir .. $(JAZZY_TESTS) ../test $(PYTEST_ARGS) || [ $$? -eq 5 ]

lint: setup
	$(BIN)/ruff check .

# Like the tests, from build/ so that the installed package (with its generated
# service module and executables) is imported, not the sources.
demo: setup
	cd build && ../$(BIN)/python -m litetrack_ros.ros_tools.demo --output $(CURDIR)/demo_output $(DEMO_ARGS)

clean:
	rm -rf build build-jazzy build-ros-tools log install $(VENV) $(JAZZY_VENV)

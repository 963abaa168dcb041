"""Reading the machine's description and a process's memory from /proc text."""

from harness.bench.machine import cpu_model, machine_info
from harness.bench.store_scale import proc_status_mb

CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7B13
flags\t\t: fpu vme

processor\t: 1
model name\t: AMD EPYC 7B13
"""

STATUS = """Name:\tpython
VmPeak:\t  300000 kB
VmHWM:\t   81920 kB
VmRSS:\t   61440 kB
Threads:\t1
"""


def test_the_cpu_model_is_the_first_model_name() -> None:
    assert cpu_model(CPUINFO) == "AMD EPYC 7B13"


def test_a_cpuinfo_without_model_name_gives_none() -> None:
    assert cpu_model("processor\t: 0\nfeatures\t: fp asimd\n") is None


def test_memory_fields_are_read_in_mebibytes() -> None:
    assert proc_status_mb(STATUS, "VmHWM") == 80.0
    assert proc_status_mb(STATUS, "VmRSS") == 60.0


def test_a_missing_memory_field_gives_none() -> None:
    assert proc_status_mb(STATUS, "VmSwap") is None


def test_machine_info_names_the_versions() -> None:
    info = machine_info()
    assert info["python"].count(".") == 2
    assert info["aiohttp"]
    assert info["cpu_count"] >= 1

import subprocess
import sys


def test_the_core_imports_neither_flask_nor_sqlalchemy():
    code = (
        "import sys\n"
        "import curricula.loader, curricula.shipped, curricula.timeline\n"
        "import cohorts.calendar, cohorts.scheduling, cohorts.errors\n"
        "from curricula.shipped import shipped\n"
        "from cohorts.calendar import WorkingCalendar\n"
        "from cohorts.scheduling import plan\n"
        "import datetime\n"
        "plan(shipped()['blended'], datetime.date(2027, 1, 11), WorkingCalendar('DE-BY'))\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in {'flask', 'sqlalchemy', "
        "'flask_sqlalchemy', 'werkzeug', 'app'})\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""

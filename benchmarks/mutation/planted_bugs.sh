#!/bin/bash
# Plant each of issue 21's three bugs alone in a scratch copy and run the test meant to catch it.
# Usage: git archive HEAD | tar -x -C /tmp/sm/planted, then run this script.
cd /tmp/sm/planted
P=/work/main/.venv/bin/python
export PYTHONPATH=$PWD
run() { # name, file, python-edit, tests...
  name=$1; file=$2; edit=$3; shift 3
  cp $file /tmp/sm/orig.py
  $P -c "import sys; p='$file'; s=open(p).read(); a,b=sys.argv[1].split('=>'); assert a in s, a; open(p,'w').write(s.replace(a,b,1))" "$edit"
  timeout 900 $P -m pytest -q -p no:cacheprovider -x "$@" > /tmp/sm/planted_$name.log 2>&1
  rc=$?
  cp /tmp/sm/orig.py $file
  echo "$name: pytest rc=$rc ($(tail -1 /tmp/sm/planted_$name.log))"
}
run truncated-adapter-check trainjob/checkpoints.py "        _check_weights(adapter, problems)=>        pass" tests/trainjob/test_trainjob_atomic.py tests/trainjob/test_trainjob_checkpoints.py
run copy-final-noop trainjob/finish.py '    step = checkpoint_step(checkpoint)
    if step is None:=>    return
    step = checkpoint_step(checkpoint)
    if step is None:' tests/trainjob/test_trainjob_atomic.py
run sigterm-before-training trainjob/runtrain.py "            self._previous = signal.signal(signal.SIGTERM, self._handler)=>            self._previous = None" "tests/trainjob/test_trainjob_killsuite.py::test_sigterm_before_training_stops_cleanly"
echo done

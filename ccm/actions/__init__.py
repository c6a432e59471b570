"""ccm.actions: the lifecycle that lets agents do what the registry allows.

What an action is lives one layer down, in :mod:`ccm.policy` (the registry, signed
proposals, identities); the lifecycle imports the policy, never the reverse.

- :mod:`ccm.actions.lifecycle`: the :class:`~ccm.actions.lifecycle.Controller`
  (propose, evaluate, approve, execute, outcome, revert, close), durable in the
  store (:mod:`ccm.actions.records`, :mod:`ccm.actions.running`);
- :mod:`ccm.actions.executors`: dry-run, webhook and command executors, health probes;
- :mod:`ccm.actions.impact`: the engine's prediction for a proposal.

The submodules are imported explicitly (``from ccm.actions.lifecycle import
Controller``).
"""

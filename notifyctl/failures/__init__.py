"""`notifyctl failures`: nothing lost means recoverable.

Two places hold what did not become an email:

=====================  =====================================  ==============================
where                  what                                   how it is recovered
=====================  =====================================  ==============================
the on-failure queue   events Lambda gave up on after its     ``redrive``: re-invoke `live`
(SQS)                  retries (account-level SES refusals,   asynchronously with the original
                       DynamoDB down, function bugs...), with SNS event; the queue message is
                       Lambda's invocation record             deleted only once Lambda accepted
                                                              the invoke
the de-dup table       FAILED (SES refused that message) and  a FAILED record whose cause was
                       UNCONFIRMED (SES's answer was lost)    transient (e.g. written before
                       records                                account-level refusals were
                                                              retried) is reset by ``redrive``
                                                              so its event can be sent again;
                                                              UNCONFIRMED: the operator decides
                                                              (``redrive ID`` resets it)
=====================  =====================================  ==============================

De-duplication still holds on a redrive: an event whose record is SENT is skipped by the
function, so redriving twice never emails twice.

records.py: typed views; source.py: reading both places; redrive.py: the plan and its
execution.
"""

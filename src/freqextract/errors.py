"""The one exception type for user mistakes.

Anything a user can get wrong (a config value, an input file, a command-line argument) raises
:class:`UserError` with a one-line message that names the field or file and the problem. The CLI turns it
into ``freqextract: error: <message>`` and exit status 2; programming errors keep their tracebacks.
"""


class UserError(Exception):
    """A mistake in user input: a config value, a data file, a checkpoint or an argument."""

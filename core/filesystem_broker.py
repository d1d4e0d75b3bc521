"""The embedded default's Celery broker: kombu's filesystem transport, made safe for several
processes polling the folder often.

kombu writes a message file in place, so a consumer polling at the wrong moment reads it empty
(a JSONDecodeError that stops the worker consuming), and it claims a file by moving it to the
temp folder, which is a copy (two consumers can both get it) when that is another filesystem.
Here a message is written under a hidden name and renamed into the queue when complete, and a
consumer claims it by renaming it in place: both are atomic, so each message is read whole, once."""

from __future__ import annotations

import os
import time
import uuid

from kombu.transport import filesystem
from kombu.transport.virtual import Empty
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{time.time_ns():020d}_{uuid.uuid4()}.{queue}.msg"  # sorts in the order put
        hidden = os.path.join(self.data_folder_out, f".{name}.writing")
        with open(hidden, "wb") as file:
            file.write(str_to_bytes(dumps(payload)))
        os.rename(hidden, os.path.join(self.data_folder_out, name))

    def _get(self, queue):
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.partition(".")[2] != f"{queue}.msg":  # also skips hidden (.name) files
                continue
            claimed = os.path.join(self.data_folder_in, f".{name}.{uuid.uuid4()}.claimed")
            try:
                os.rename(os.path.join(self.data_folder_in, name), claimed)
            except FileNotFoundError:  # another consumer claimed it
                continue
            with open(claimed, "rb") as file:
                payload = file.read()
            os.remove(claimed)
            return loads(bytes_to_str(payload))
        raise Empty()


class Transport(filesystem.Transport):
    Channel = Channel

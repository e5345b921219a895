"""The outbox table's DynamoDB stream in the local stack: read from the embedded DynamoDB (moto keeps the stream)
and handed to the sender function's handler, filtered as template.yaml's event source mapping filters it — so
``make dev`` runs the same handler that Lambda invokes in AWS, within a second of the change.

Like the event source mapping it starts at the stream's end (LATEST): what was written while the stack was down is
found by the scheduler's sweep, as in AWS after a stream outage.
"""
from __future__ import annotations

import logging
import threading

from tongxin.domain.push import stream_record_wanted

log = logging.getLogger("tongxin.local")
BATCH = 10  # the event source mapping's BatchSize (template.yaml)


class OutboxStreamReader:
    def __init__(self, endpoint_url: str, region: str, table_name: str, handler, interval: float = 0.5):
        import boto3
        self.streams = boto3.client("dynamodbstreams", endpoint_url=endpoint_url, region_name=region,
                                    aws_access_key_id="local", aws_secret_access_key="local")
        self.table_name, self.handler, self.interval = table_name, handler, interval
        self._iterators: dict[str, str] = {}

    def _start(self) -> None:
        arn = self.streams.list_streams(TableName=self.table_name)["Streams"][0]["StreamArn"]
        for shard in self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            self._iterators[shard["ShardId"]] = self.streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST")["ShardIterator"]

    def poll_once(self) -> int:
        """Hand what the stream got since the last poll to the handler, in batches; returns the records handed."""
        handed = 0
        for shard, iterator in list(self._iterators.items()):
            answer = self.streams.get_records(ShardIterator=iterator, Limit=1000)
            self._iterators[shard] = answer.get("NextShardIterator") or iterator
            wanted = [record for record in answer.get("Records", []) if stream_record_wanted(record)]
            for start in range(0, len(wanted), BATCH):
                batch = wanted[start:start + BATCH]
                result = self.handler({"Records": batch}, None) or {}
                failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
                if failed:  # as Lambda would retry them; here the sweep finds them when they are due
                    log.warning("sender left %d stream records to the sweep", len(failed))
                handed += len(batch)
        return handed

    def run(self, stop: threading.Event) -> None:
        try:
            self._start()
        except Exception:
            log.exception("the outbox stream could not be read: messages go out with the scheduler's sweep only")
            return
        while not stop.wait(self.interval):
            try:
                self.poll_once()
            except Exception:  # keep reading; the sweep delivers whatever this missed
                log.exception("outbox stream poll failed")

/**
 * The auditor's page's file-read worker: reads picked files for the verification worker (ui/worker.ts),
 * so that reads progress while that worker hashes (see ui/read-protocol.ts). It holds no state, checks
 * nothing and only ever reads the Blob it is sent, up to the bound it is sent.
 */
import { answerRead, type ReadReply, type ReadRequest } from './read-protocol.ts';

const scope = self as unknown as {
  postMessage(message: ReadReply, transfer: Transferable[]): void;
  onmessage: ((event: { data: ReadRequest }) => void) | null;
};

scope.onmessage = ({ data }) => {
  void answerRead(data).then(({ reply, transfer }) => scope.postMessage(reply, transfer));
};

import { InMemoryAlertIndex } from '../../../shared/storage/in-memory-alert-index.ts';
import { alertIndexContract } from './alert-index-contract.ts';

alertIndexContract('in memory', async () => new InMemoryAlertIndex());

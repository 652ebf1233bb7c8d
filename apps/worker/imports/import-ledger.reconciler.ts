import { Injectable } from '@nestjs/common';
import { ImportProducer } from '../../../libs/imports/import-producer.js';
import { FairLedgerReconciler } from '../../../libs/queue/fair-ledger-reconciler.js';

/** The imports queue's ledger, recounted at start and every minute (docs/imports.md "Fair shares"). */
@Injectable()
export class ImportLedgerReconciler extends FairLedgerReconciler {
  constructor(producer: ImportProducer) {
    super([producer.ledger]);
  }
}

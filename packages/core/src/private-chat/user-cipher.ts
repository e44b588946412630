import type { UserCipher } from './users.service';
import { UserKeyError, type UserKeyring } from './user-keyring';

/** Core's view of the user key: it seals and finds users, the key stays with the caller. */
export function keyringCipher(keyring: UserKeyring): UserCipher {
  return {
    currentKeyId: keyring.current.id,
    lookupHashes: (scope, telegramUserId) => keyring.lookupHashes(scope, telegramUserId),
    seal: (tenantId, rowId, telegramUserId) => keyring.sealUserId(tenantId, rowId, telegramUserId),
    open: (row) => {
      try {
        return keyring.openUserId(row);
      } catch (error) {
        // Sealed under a key no longer at hand: counted by the caller, left as it is.
        if (error instanceof UserKeyError) return undefined;
        throw error;
      }
    },
  };
}

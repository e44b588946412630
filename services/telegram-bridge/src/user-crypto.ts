// The user key lives in core since issue 19: the gateway seals the users of bot channels and
// the channels' tokens with it too.
export {
  decodeUserKey,
  expandUserKey,
  generateUserKey,
  isSealedUpdate,
  updateAad,
  UserKeyError,
  UserKeyring,
  type UserKey,
} from '@topicdesk/core';

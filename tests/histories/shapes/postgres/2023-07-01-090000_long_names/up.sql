-- Names longer than 63 bytes: PostgreSQL truncates them, and so does every later
-- statement that names them.
CREATE TABLE notification_preferences_for_users_and_their_subscribed_channels_v2 (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel VARCHAR NOT NULL,
    frequency VARCHAR NOT NULL DEFAULT 'daily'
);

CREATE INDEX index_notification_preferences_on_user_id_and_channel_and_frequency
    ON notification_preferences_for_users_and_their_subscribed_channels_v2 (user_id, channel, frequency);

INSERT INTO notification_preferences_for_users_and_their_subscribed_channels_v2 (user_id, channel)
    VALUES (1, 'email'), (2, 'push');

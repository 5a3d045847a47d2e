// The accounts and partners the journeys use.
export const PASSWORD = 'correct horse battery staple';
export const PARTNER = 'pc.jones@police.example.uk';
